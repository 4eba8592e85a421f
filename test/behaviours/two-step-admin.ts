/**
 * Shared behaviour: the default admin hands over in two steps (OpenZeppelin's
 * `AccessControlDefaultAdminRules`). The role cannot be granted directly; a
 * handover started by the admin takes effect only after the delay and only
 * when the new admin accepts; the admin can cancel it; no one else can start
 * or cancel one. Driven through the public `IAccessControlDefaultAdminRules`
 * interface, so every contract is checked against the same ABI.
 */
import { expect } from "chai";
import { Contract, ZeroAddress, ZeroHash, type ContractTransactionResponse, type Signer } from "ethers";

import type { BehaviourFixture } from "./fixture.js";

/** The part of OpenZeppelin's `IAccessControlDefaultAdminRules` (and `IAccessControl`) the suite uses. */
const ADMIN_RULES_ABI = [
  "function DEFAULT_ADMIN_ROLE() view returns (bytes32)",
  "function hasRole(bytes32 role, address account) view returns (bool)",
  "function grantRole(bytes32 role, address account)",
  "function defaultAdmin() view returns (address)",
  "function pendingDefaultAdmin() view returns (address newAdmin, uint48 schedule)",
  "function defaultAdminDelay() view returns (uint48)",
  "function beginDefaultAdminTransfer(address newAdmin)",
  "function cancelDefaultAdminTransfer()",
  "function acceptDefaultAdminTransfer()",
  "event DefaultAdminTransferScheduled(address indexed newAdmin, uint48 acceptSchedule)",
  "event DefaultAdminTransferCanceled()",
  "event RoleGranted(bytes32 indexed role, address indexed account, address indexed sender)",
  "event RoleRevoked(bytes32 indexed role, address indexed account, address indexed sender)",
  "error AccessControlUnauthorizedAccount(address account, bytes32 neededRole)",
  "error AccessControlEnforcedDefaultAdminRules()",
  "error AccessControlEnforcedDefaultAdminDelay(uint48 schedule)",
  "error AccessControlInvalidDefaultAdmin(address defaultAdmin)",
] as const;

/** One contract whose default admin hands over in two steps. */
export interface TwoStepAdminAdapter {
  /** The contract's address. */
  readonly address: string;
  /** Its current default admin. */
  readonly admin: Signer;
  /** The handover delay it was deployed with, in seconds. */
  readonly delay: bigint;
  /** Two accounts that hold no role on it: the one the handover goes to, and a stranger. */
  readonly newAdmin: Signer;
  readonly stranger: Signer;
  /** The chain's time helpers. */
  readonly networkHelpers: BehaviourFixture["networkHelpers"];
}

/** The typed calls of `ADMIN_RULES_ABI` on `address` as `runner`. */
function rulesOf(address: string, runner: Signer) {
  const c = new Contract(address, ADMIN_RULES_ABI, runner);
  const send = (name: string, ...args: unknown[]) =>
    c.getFunction(name)(...args) as Promise<ContractTransactionResponse>;
  return {
    contract: c,
    defaultAdmin: async () => (await c.getFunction("defaultAdmin")()) as string,
    pending: async () => {
      const [newAdmin, schedule] = (await c.getFunction("pendingDefaultAdmin")()) as [string, bigint];
      return { newAdmin, schedule };
    },
    delay: async () => (await c.getFunction("defaultAdminDelay")()) as bigint,
    hasRole: async (role: string, account: string) => (await c.getFunction("hasRole")(role, account)) as boolean,
    grantRole: (role: string, account: string) => send("grantRole", role, account),
    begin: (newAdmin: string) => send("beginDefaultAdminTransfer", newAdmin),
    cancel: () => send("cancelDefaultAdminTransfer"),
    accept: () => send("acceptDefaultAdminTransfer"),
  };
}

const ADMIN_ROLE = ZeroHash;
/** Any role but the admin one, to try a grant with. */
const SOME_ROLE = "0x" + "11".repeat(32);

export function shouldBehaveLikeTwoStepAdmin(adapter: () => TwoStepAdminAdapter): void {
  describe("two-step admin handover", function () {
    async function setUp() {
      const a = adapter();
      const admin = await a.admin.getAddress();
      const newAdmin = await a.newAdmin.getAddress();
      const stranger = await a.stranger.getAddress();
      return {
        a,
        addresses: { admin, newAdmin, stranger },
        asAdmin: rulesOf(a.address, a.admin),
        asNewAdmin: rulesOf(a.address, a.newAdmin),
        asStranger: rulesOf(a.address, a.stranger),
      };
    }

    it("has one admin and the expected delay", async function () {
      const { a, addresses, asAdmin } = await setUp();
      expect(await asAdmin.defaultAdmin()).to.equal(addresses.admin);
      expect(await asAdmin.hasRole(ADMIN_ROLE, addresses.admin)).to.equal(true);
      expect(await asAdmin.delay()).to.equal(a.delay);
      expect(await asAdmin.pending()).to.deep.equal({ newAdmin: ZeroAddress, schedule: 0n });
    });

    it("refuses to grant the admin role directly, even by the admin", async function () {
      const { addresses, asAdmin } = await setUp();
      await expect(asAdmin.grantRole(ADMIN_ROLE, addresses.newAdmin)).to.be.revertedWithCustomError(
        asAdmin.contract,
        "AccessControlEnforcedDefaultAdminRules",
      );
      expect(await asAdmin.hasRole(ADMIN_ROLE, addresses.newAdmin)).to.equal(false);
    });

    it("lets no one but the admin start or cancel a handover", async function () {
      const { addresses, asAdmin, asStranger } = await setUp();
      await expect(asStranger.begin(addresses.stranger))
        .to.be.revertedWithCustomError(asStranger.contract, "AccessControlUnauthorizedAccount")
        .withArgs(addresses.stranger, ADMIN_ROLE);
      await (await asAdmin.begin(addresses.newAdmin)).wait();
      await expect(asStranger.cancel())
        .to.be.revertedWithCustomError(asStranger.contract, "AccessControlUnauthorizedAccount")
        .withArgs(addresses.stranger, ADMIN_ROLE);
      expect((await asAdmin.pending()).newAdmin).to.equal(addresses.newAdmin);
    });

    it("hands over only after the delay, and only when the new admin accepts", async function () {
      const { a, addresses, asAdmin, asNewAdmin, asStranger } = await setUp();
      const tx = await asAdmin.begin(addresses.newAdmin);
      const block = await tx.getBlock();
      const schedule = BigInt(block!.timestamp) + a.delay;
      await expect(tx)
        .to.emit(asAdmin.contract, "DefaultAdminTransferScheduled")
        .withArgs(addresses.newAdmin, schedule);
      expect(await asAdmin.pending()).to.deep.equal({ newAdmin: addresses.newAdmin, schedule });

      // Pending: the old admin still rules, the new one holds nothing and cannot accept yet.
      expect(await asAdmin.defaultAdmin()).to.equal(addresses.admin);
      await expect(asNewAdmin.grantRole(SOME_ROLE, addresses.stranger))
        .to.be.revertedWithCustomError(asNewAdmin.contract, "AccessControlUnauthorizedAccount")
        .withArgs(addresses.newAdmin, ADMIN_ROLE);
      await expect(asNewAdmin.accept())
        .to.be.revertedWithCustomError(asNewAdmin.contract, "AccessControlEnforcedDefaultAdminDelay")
        .withArgs(schedule);
      await a.networkHelpers.time.increaseTo(schedule - 1n);
      await expect(asNewAdmin.accept())
        .to.be.revertedWithCustomError(asNewAdmin.contract, "AccessControlEnforcedDefaultAdminDelay")
        .withArgs(schedule);

      // After the delay: only the new admin may accept.
      await a.networkHelpers.time.increaseTo(schedule + 1n);
      await expect(asStranger.accept())
        .to.be.revertedWithCustomError(asStranger.contract, "AccessControlInvalidDefaultAdmin")
        .withArgs(addresses.stranger);
      await expect(asNewAdmin.accept())
        .to.emit(asNewAdmin.contract, "RoleRevoked")
        .withArgs(ADMIN_ROLE, addresses.admin, addresses.newAdmin)
        .and.to.emit(asNewAdmin.contract, "RoleGranted")
        .withArgs(ADMIN_ROLE, addresses.newAdmin, addresses.newAdmin);
      expect(await asAdmin.defaultAdmin()).to.equal(addresses.newAdmin);
      expect(await asAdmin.hasRole(ADMIN_ROLE, addresses.admin)).to.equal(false);
      expect(await asAdmin.pending()).to.deep.equal({ newAdmin: ZeroAddress, schedule: 0n });

      // The old admin is out: it can neither grant nor start another handover.
      await expect(asAdmin.grantRole(SOME_ROLE, addresses.stranger))
        .to.be.revertedWithCustomError(asAdmin.contract, "AccessControlUnauthorizedAccount")
        .withArgs(addresses.admin, ADMIN_ROLE);
      await expect(asAdmin.begin(addresses.admin))
        .to.be.revertedWithCustomError(asAdmin.contract, "AccessControlUnauthorizedAccount")
        .withArgs(addresses.admin, ADMIN_ROLE);
    });

    it("the admin can cancel a pending handover, which then cannot be accepted", async function () {
      const { a, addresses, asAdmin, asNewAdmin } = await setUp();
      await (await asAdmin.begin(addresses.newAdmin)).wait();
      await expect(asAdmin.cancel()).to.emit(asAdmin.contract, "DefaultAdminTransferCanceled");
      expect(await asAdmin.pending()).to.deep.equal({ newAdmin: ZeroAddress, schedule: 0n });
      await a.networkHelpers.time.increase(a.delay + 1n);
      await expect(asNewAdmin.accept())
        .to.be.revertedWithCustomError(asNewAdmin.contract, "AccessControlInvalidDefaultAdmin")
        .withArgs(addresses.newAdmin);
      expect(await asAdmin.defaultAdmin()).to.equal(addresses.admin);
      expect(await asAdmin.hasRole(ADMIN_ROLE, addresses.newAdmin)).to.equal(false);
    });
  });
}
