import { expect } from "chai";
import { keccak256, TypedDataEncoder, type Signer } from "ethers";

import type { BillRegistry } from "../../typechain-types/index.js";
import { asUint, b32, billsFixture, E_INVOICE, type BillsFixture } from "./helpers.js";

const TYPES = {
  BillOperation: [
    { name: "billId", type: "bytes32" },
    { name: "operation", type: "bytes32" },
    { name: "dataHash", type: "bytes32" },
    { name: "nonce", type: "uint256" },
    { name: "deadline", type: "uint256" },
  ],
};

/** The registry's EIP-712 domain, checked against its DOMAIN_SEPARATOR. */
async function domainOf(registry: BillRegistry) {
  const { chainId } = await registry.runner!.provider!.getNetwork();
  const domain = { name: "BillRegistry", version: "1", chainId, verifyingContract: await registry.getAddress() };
  expect(TypedDataEncoder.hashDomain(domain)).to.equal(await registry.DOMAIN_SEPARATOR());
  return domain;
}

interface Signed {
  readonly billId: string;
  readonly operation: string;
  readonly data: string;
  readonly signer: string;
  readonly nonce: bigint;
  readonly deadline: bigint;
  readonly signature: string;
}

async function sign(
  registry: BillRegistry,
  by: Signer,
  billId: string,
  operation: string,
  data: string,
  deadline: bigint,
  nonce?: bigint,
): Promise<Signed> {
  const signer = await by.getAddress();
  const n = nonce ?? (await registry.nonces(signer));
  const value = { billId, operation: b32(operation), dataHash: keccak256(data), nonce: n, deadline };
  const signature = await by.signTypedData(await domainOf(registry), TYPES, value);
  return { billId, operation: b32(operation), data, signer, nonce: n, deadline, signature };
}

const relay = (registry: BillRegistry, relayer: Signer, s: Signed) =>
  registry.connect(relayer).executeBySig(s.billId, s.operation, s.data, s.signer, s.nonce, s.deadline, s.signature);

describe("BillRegistry: signed, relayed operations (executeBySig)", function () {
  let f: BillsFixture;
  let registry: BillRegistry;
  let drawee: Signer;
  let payee: Signer;
  let relayer: Signer;
  let billId: string;
  let deadline: bigint;

  beforeEach(async function () {
    f = await billsFixture();
    registry = f.registry;
    [, drawee, payee, relayer] = f.parties;
    billId = await f.issue(E_INVOICE, "signed-invoice", 1_000n, [0, 0, 0]);
    deadline = BigInt((await f.now()) + 3_600);
  });

  /** Everything a refused call must leave as it was. */
  async function snapshot() {
    const balances = await Promise.all(f.addresses.map((a) => f.suite.token.balanceOf(a)));
    return {
      state: await registry.stateOf(billId),
      rolling: await registry.rollingHash(billId),
      nonces: await Promise.all(f.addresses.map((a) => registry.nonces(a))),
      balances,
    };
  }

  it("uses the domain (BillRegistry, 1, chainId, registry)", async function () {
    await domainOf(registry);
  });

  it("performs the operation as the signer, relayed by another account, and spends the nonce", async function () {
    const signed = await sign(registry, drawee, billId, "ACCEPT", "0x", deadline);
    expect(signed.nonce).to.equal(0n);
    await expect(relay(registry, relayer, signed))
      .to.emit(registry, "BillStateChanged")
      .withArgs(billId, b32("ISSUED"), b32("ACCEPTED"), b32("ACCEPT"), f.addresses[1], keccak256("0x"));
    expect(await registry.stateOf(billId)).to.equal(b32("ACCEPTED"));
    expect(await registry.nonces(f.addresses[1]!)).to.equal(1n);
    expect(await registry.nonces(f.addresses[3]!)).to.equal(0n);
  });

  it("pulls a signed payment from the signer, not the relayer", async function () {
    await f.exec(1, billId, "ACCEPT");
    const before = await Promise.all(f.addresses.map((a) => f.suite.token.balanceOf(a)));
    const signed = await sign(registry, drawee, billId, "PAY_PARTIAL", asUint(300n), deadline);
    await expect(relay(registry, relayer, signed))
      .to.emit(registry, "BillPaid")
      .withArgs(billId, f.addresses[1], f.addresses[2], 300n, 300n);
    const after = await Promise.all(f.addresses.map((a) => f.suite.token.balanceOf(a)));
    expect(after[1]! - before[1]!).to.equal(-300n);
    expect(after[2]! - before[2]!).to.equal(300n);
    expect(after[3]).to.equal(before[3]);
    expect(await registry.stateOf(billId)).to.equal(b32("PARTIALLY_PAID"));
  });

  it("refuses the same signature replayed with BillInvalidNonce", async function () {
    const signed = await sign(registry, drawee, billId, "DISPUTE", "0x", deadline);
    await (await relay(registry, relayer, signed)).wait();
    const before = await snapshot();
    await expect(relay(registry, relayer, signed))
      .to.be.revertedWithCustomError(registry, "BillInvalidNonce")
      .withArgs(f.addresses[1], 1n, 0n);
    expect(await snapshot()).to.deep.equal(before);
  });

  it("refuses a signature by someone other than the named signer with BillInvalidSignature", async function () {
    const forged = await sign(registry, payee, billId, "ACCEPT", "0x", deadline, 0n);
    const before = await snapshot();
    await expect(relay(registry, relayer, { ...forged, signer: f.addresses[1]! }))
      .to.be.revertedWithCustomError(registry, "BillInvalidSignature")
      .withArgs(f.addresses[1]);
    expect(await snapshot()).to.deep.equal(before);
  });

  it("refuses a valid signature of a party the transition does not allow with BillUnauthorizedParty", async function () {
    const signed = await sign(registry, payee, billId, "ACCEPT", "0x", deadline);
    const before = await snapshot();
    await expect(relay(registry, relayer, signed))
      .to.be.revertedWithCustomError(registry, "BillUnauthorizedParty")
      .withArgs(billId, b32("ACCEPT"), f.addresses[2], 2 /* Party.Drawee */);
    expect(await snapshot()).to.deep.equal(before);
  });

  it("refuses an expired signature with BillSignatureExpired", async function () {
    const expired = BigInt(await f.now());
    const signed = await sign(registry, drawee, billId, "ACCEPT", "0x", expired);
    const at = expired + 10n;
    await f.suite.networkHelpers.time.setNextBlockTimestamp(at);
    const before = await snapshot();
    await expect(relay(registry, relayer, signed))
      .to.be.revertedWithCustomError(registry, "BillSignatureExpired")
      .withArgs(expired, at);
    expect(await snapshot()).to.deep.equal(before);
  });

  it("refuses tampered data, operation or bill with BillInvalidSignature", async function () {
    await f.exec(1, billId, "ACCEPT");
    const other = await f.issue(E_INVOICE, "signed-invoice-2", 1_000n, [0, 0, 0]);
    const signed = await sign(registry, drawee, billId, "PAY_PARTIAL", asUint(100n), deadline);
    const before = await snapshot();
    for (const tampered of [
      { ...signed, data: asUint(900n) },
      { ...signed, operation: b32("PAY") },
      { ...signed, billId: other },
      { ...signed, deadline: deadline + 1n },
    ]) {
      await expect(relay(registry, relayer, tampered))
        .to.be.revertedWithCustomError(registry, "BillInvalidSignature")
        .withArgs(f.addresses[1]);
    }
    expect(await snapshot()).to.deep.equal(before);
    await (await relay(registry, relayer, signed)).wait();
    expect(await registry.stateOf(billId)).to.equal(b32("PARTIALLY_PAID"));
  });
});
