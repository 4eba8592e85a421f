import { expect } from "chai";
import { hexlify, randomBytes, Signature, TypedDataEncoder, type Signer, type TypedDataField } from "ethers";

import { PERMIT_TYPES } from "../../src/chain/permit.js";
import { BankTokenV2__factory, BankToken__factory, type BankToken } from "../../typechain-types/index.js";
import { deploySuite, type Suite } from "../helpers/suite.js";

const AUTH_FIELDS: TypedDataField[] = [
  { name: "from", type: "address" },
  { name: "to", type: "address" },
  { name: "value", type: "uint256" },
  { name: "validAfter", type: "uint256" },
  { name: "validBefore", type: "uint256" },
  { name: "nonce", type: "bytes32" },
];
const TYPES = {
  ...PERMIT_TYPES,
  TransferWithAuthorization: AUTH_FIELDS,
  ReceiveWithAuthorization: AUTH_FIELDS,
  CancelAuthorization: [
    { name: "authorizer", type: "address" },
    { name: "nonce", type: "bytes32" },
  ],
} satisfies Record<string, TypedDataField[]>;

/** The token's EIP-712 domain as it reports it (ERC-5267), checked against DOMAIN_SEPARATOR. */
async function domainOf(token: BankToken) {
  const [, name, version, chainId, verifyingContract] = await token.eip712Domain();
  expect(verifyingContract).to.equal(await token.getAddress());
  const domain = { name, version, chainId, verifyingContract };
  expect(TypedDataEncoder.hashDomain(domain)).to.equal(await token.DOMAIN_SEPARATOR());
  return domain;
}

async function sign(token: BankToken, signer: Signer, type: keyof typeof TYPES, value: Record<string, unknown>) {
  return Signature.from(await signer.signTypedData(await domainOf(token), { [type]: TYPES[type] }, value));
}

describe("money: BankToken signed operations, upgrade and admin handover", function () {
  let suite: Suite;
  let alice: Signer;
  let bob: Signer;
  let carol: Signer;
  const fiatRef = (n: number) => `0x${n.toString(16).padStart(64, "0")}`;

  beforeEach(async function () {
    suite = await deploySuite();
    [alice, bob, carol] = suite.others as unknown as [Signer, Signer, Signer];
    await suite.trustA.mintForDeposit(await alice.getAddress(), 100_000n, fiatRef(1));
  });

  async function now(): Promise<bigint> {
    return BigInt(await suite.networkHelpers.time.latest());
  }

  it("the deploy scripts wire token, ledger and trust accounts as documented", async function () {
    const { token, ledger, trustA, trustB, accounts } = suite;
    expect(await token.currency()).to.equal("0x555344"); // "USD"
    expect(await token.decimals()).to.equal(2n);
    expect(await token.issuanceGate()).to.equal(await ledger.getAddress());
    expect(await ledger.token()).to.equal(await token.getAddress());
    for (const trust of [trustA, trustB]) expect(await token.isMinter(await trust.getAddress())).to.equal(true);
    expect(await token.hasRole(await token.PAUSER_ROLE(), accounts.pauser.address)).to.equal(true);
    expect(await token.hasRole(await token.PAUSER_ROLE(), accounts.deployer.address)).to.equal(false);
    expect(await ledger.outstandingOf(await trustA.getAddress())).to.equal(100_000n);
    expect(await ledger.totalOutstanding()).to.equal(await token.totalSupply());
  });

  it("accepts an EIP-2612 permit signed with ethers, once", async function () {
    const { token } = suite;
    const owner = await alice.getAddress();
    const spender = await bob.getAddress();
    const deadline = (await now()) + 3600n;
    const value = { owner, spender, value: 5_000n, nonce: await token.nonces(owner), deadline };
    const sig = await sign(token, alice, "Permit", value);
    await expect(
      token
        .connect(carol)
        ["permit(address,address,uint256,uint256,uint8,bytes32,bytes32)"](
          owner,
          spender,
          5_000n,
          deadline,
          sig.v,
          sig.r,
          sig.s,
        ),
    )
      .to.emit(token, "Approval")
      .withArgs(owner, spender, 5_000n);
    expect(await token.allowance(owner, spender)).to.equal(5_000n);
    expect(await token.nonces(owner)).to.equal(1n);
    await expect(
      token
        .connect(carol)
        ["permit(address,address,uint256,uint256,uint8,bytes32,bytes32)"](
          owner,
          spender,
          5_000n,
          deadline,
          sig.v,
          sig.r,
          sig.s,
        ),
    ).to.be.revertedWithCustomError(token, "BankTokenInvalidSignature");
  });

  it("executes transferWithAuthorization signed with ethers, and refuses the same nonce again", async function () {
    const { token } = suite;
    const from = await alice.getAddress();
    const to = await bob.getAddress();
    const nonce = hexlify(randomBytes(32));
    const value = { from, to, value: 2_500n, validAfter: 0n, validBefore: (await now()) + 600n, nonce };
    const sig = await sign(token, alice, "TransferWithAuthorization", value);
    const relay = token.connect(carol);
    const call = () =>
      relay["transferWithAuthorization(address,address,uint256,uint256,uint256,bytes32,uint8,bytes32,bytes32)"](
        from,
        to,
        2_500n,
        0n,
        value.validBefore,
        nonce,
        sig.v,
        sig.r,
        sig.s,
      );
    await expect(call()).to.emit(token, "AuthorizationUsed").withArgs(from, nonce);
    expect(await token.balanceOf(to)).to.equal(2_500n);
    expect(await token.authorizationState(from, nonce)).to.equal(true);
    await expect(call()).to.be.revertedWithCustomError(token, "BankTokenAuthorizationUsed").withArgs(from, nonce);
  });

  it("executes receiveWithAuthorization only for the payee, with a bytes signature", async function () {
    const { token } = suite;
    const from = await alice.getAddress();
    const to = await bob.getAddress();
    const nonce = hexlify(randomBytes(32));
    const validBefore = (await now()) + 600n;
    const value = { from, to, value: 700n, validAfter: 0n, validBefore, nonce };
    const sig = await sign(token, alice, "ReceiveWithAuthorization", value);
    const args = [from, to, 700n, 0n, validBefore, nonce, sig.serialized] as const;
    const fn = "receiveWithAuthorization(address,address,uint256,uint256,uint256,bytes32,bytes)" as const;
    await expect(token.connect(carol)[fn](...args))
      .to.be.revertedWithCustomError(token, "BankTokenCallerNotPayee")
      .withArgs(await carol.getAddress(), to);
    await expect(token.connect(bob)[fn](...args))
      .to.emit(token, "Transfer")
      .withArgs(from, to, 700n);
  });

  it("cancels an authorization so that it can no longer be used", async function () {
    const { token } = suite;
    const from = await alice.getAddress();
    const to = await bob.getAddress();
    const nonce = hexlify(randomBytes(32));
    const validBefore = (await now()) + 600n;
    const transfer = await sign(token, alice, "TransferWithAuthorization", {
      from,
      to,
      value: 1n,
      validAfter: 0n,
      validBefore,
      nonce,
    });
    const cancel = await sign(token, alice, "CancelAuthorization", { authorizer: from, nonce });
    await expect(
      token
        .connect(carol)
        ["cancelAuthorization(address,bytes32,uint8,bytes32,bytes32)"](from, nonce, cancel.v, cancel.r, cancel.s),
    )
      .to.emit(token, "AuthorizationCanceled")
      .withArgs(from, nonce);
    await expect(
      token
        .connect(carol)
        ["transferWithAuthorization(address,address,uint256,uint256,uint256,bytes32,bytes)"](
          from,
          to,
          1n,
          0n,
          validBefore,
          nonce,
          transfer.serialized,
        ),
    )
      .to.be.revertedWithCustomError(token, "BankTokenAuthorizationUsed")
      .withArgs(from, nonce);
  });

  it("refuses an authorization signed by someone else, or outside its window", async function () {
    const { token } = suite;
    const from = await alice.getAddress();
    const to = await bob.getAddress();
    const fn = "transferWithAuthorization(address,address,uint256,uint256,uint256,bytes32,bytes)" as const;
    const t = await now();
    const forged = { from, to, value: 1n, validAfter: 0n, validBefore: t + 600n, nonce: hexlify(randomBytes(32)) };
    const bySomeoneElse = await sign(token, carol, "TransferWithAuthorization", forged);
    await expect(
      token.connect(carol)[fn](from, to, 1n, 0n, forged.validBefore, forged.nonce, bySomeoneElse.serialized),
    ).to.be.revertedWithCustomError(token, "BankTokenInvalidSignature");
    const early = { ...forged, validAfter: t + 300n, nonce: hexlify(randomBytes(32)) };
    const earlySig = await sign(token, alice, "TransferWithAuthorization", early);
    await expect(
      token.connect(carol)[fn](from, to, 1n, early.validAfter, early.validBefore, early.nonce, earlySig.serialized),
    ).to.be.revertedWithCustomError(token, "BankTokenAuthorizationNotYetValid");
    const late = { ...forged, validBefore: t - 1n, nonce: hexlify(randomBytes(32)) };
    const lateSig = await sign(token, alice, "TransferWithAuthorization", late);
    await expect(
      token.connect(carol)[fn](from, to, 1n, 0n, late.validBefore, late.nonce, lateSig.serialized),
    ).to.be.revertedWithCustomError(token, "BankTokenAuthorizationExpired");
    expect(await token.balanceOf(to)).to.equal(0n);
  });

  it("upgrades to a second implementation through the proxy and keeps balances, allowances and roles", async function () {
    const { token, accounts, ethers } = suite;
    const owner = await alice.getAddress();
    await token.connect(alice).approve(await bob.getAddress(), 123n);
    const supply = await token.totalSupply();
    const v2 = await new BankTokenV2__factory(accounts.deployer).deploy();
    await expect(token.connect(accounts.deployer).upgradeToAndCall(await v2.getAddress(), "0x"))
      .to.be.revertedWithCustomError(token, "AccessControlUnauthorizedAccount")
      .withArgs(accounts.deployer.address, await token.UPGRADER_ROLE());
    await expect(token.connect(accounts.upgrader).upgradeToAndCall(await v2.getAddress(), "0x"))
      .to.emit(token, "Upgraded")
      .withArgs(await v2.getAddress());
    const upgraded = BankTokenV2__factory.connect(await token.getAddress(), ethers.provider);
    expect(await upgraded.version()).to.equal("2");
    expect(await upgraded.balanceOf(owner)).to.equal(100_000n);
    expect(await upgraded.totalSupply()).to.equal(supply);
    expect(await upgraded.allowance(owner, await bob.getAddress())).to.equal(123n);
    expect(await upgraded.isMinter(await suite.trustA.getAddress())).to.equal(true);
    expect(await upgraded.hasRole(await upgraded.PAUSER_ROLE(), accounts.pauser.address)).to.equal(true);
    // The new code moves money as the old did.
    await expect(upgraded.connect(alice).transfer(await carol.getAddress(), 10n)).to.changeTokenBalances(
      ethers,
      upgraded,
      [alice, carol],
      [-10n, 10n],
    );
  });

  it("refuses to initialize the implementation or the proxy a second time", async function () {
    const { token, deployments, accounts } = suite;
    const implementation = BankToken__factory.connect(
      deployments.get("BankToken_Implementation").address,
      accounts.deployer,
    );
    const args = ["X", "X", "0x555344", 2, 1n, accounts.deployer.address, accounts.deployer.address, 0] as const;
    await expect(implementation.initialize(...args)).to.be.revertedWithCustomError(
      implementation,
      "InvalidInitialization",
    );
    await expect(token.initialize(...args)).to.be.revertedWithCustomError(token, "InvalidInitialization");
  });

  it("hands the default admin role over in two steps, after the delay", async function () {
    const { token, accounts, networkHelpers } = suite;
    const next = carol;
    const nextAddress = await next.getAddress();
    await expect(token.connect(next).beginDefaultAdminTransfer(nextAddress)).to.be.revertedWithCustomError(
      token,
      "AccessControlUnauthorizedAccount",
    );
    await token.connect(accounts.admin).beginDefaultAdminTransfer(nextAddress);
    const [pending, schedule] = await token.pendingDefaultAdmin();
    expect(pending).to.equal(nextAddress);
    await expect(token.connect(next).acceptDefaultAdminTransfer()).to.be.revertedWithCustomError(
      token,
      "AccessControlEnforcedDefaultAdminDelay",
    );
    await expect(token.connect(bob).acceptDefaultAdminTransfer()).to.be.revertedWithCustomError(
      token,
      "AccessControlInvalidDefaultAdmin",
    );
    await networkHelpers.time.increaseTo(schedule + 1n);
    await token.connect(next).acceptDefaultAdminTransfer();
    expect(await token.defaultAdmin()).to.equal(nextAddress);
    const admin = await token.DEFAULT_ADMIN_ROLE();
    expect(await token.hasRole(admin, accounts.admin.address)).to.equal(false);
    // The new admin governs: it can grant a role, the old one no longer can.
    const pauser = await token.PAUSER_ROLE();
    await expect(token.connect(accounts.admin).grantRole(pauser, await bob.getAddress())).to.be.revertedWithCustomError(
      token,
      "AccessControlUnauthorizedAccount",
    );
    await token.connect(next).grantRole(pauser, await bob.getAddress());
    expect(await token.hasRole(pauser, await bob.getAddress())).to.equal(true);
  });
});
