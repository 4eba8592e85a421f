import { getAddress, ZeroHash } from "ethers";

import { OfflineVault__factory } from "../../typechain-types/index.js";
import type { LaneView } from "./merchant-store.js";
import { PROTOCOL_VERSION } from "./protocol.js";
import { refuse, stored, sum, type VoucherKindStrategy } from "./voucher-kind.js";
import {
  hashVoucher,
  recoverPayer,
  signVoucher,
  vaultDomain,
  voucherFromJson,
  voucherToJson,
  type Voucher,
} from "./voucher.js";

/** Vouchers that take up their lane's sequence and count towards the limits. */
const LIVE_STATES = new Set(["pending", "submitting", "settled", "already_settled"]);

/**
 * Secured vouchers: EIP-712 `Voucher`s of the `OfflineVault`, paid from the
 * payer's locked funds and chained per (payer, lane) by sequence and the
 * previous voucher's hash. The merchant checks the chain, the limits and the
 * locked funds less what it already holds; the buyer keeps its lane durable
 * (a voucher sent without a decision leaves the lane uncertain).
 */
export const securedKind: VoucherKindStrategy<"secured"> = {
  kind: "secured",

  check(offer, { merchant, request, amount, store, nowMs, staleness, window }) {
    const meta = store.meta();
    const now = BigInt(Math.floor(nowMs / 1000));
    const v = voucherFromJson(offer.voucher);
    if (v.merchant !== merchant) return refuse("wrong_merchant", `the voucher pays ${v.merchant}`);
    if (v.amount !== amount) return refuse("wrong_amount", `the voucher is for ${v.amount}, not ${amount}`);
    if (v.lane !== BigInt(request.lane)) return refuse("wrong_lane", `the voucher is on lane ${v.lane}`);
    if (meta === undefined) return refuse("stale_view", "the merchant has no view of the vault");
    const domain = vaultDomain(meta.chainId, meta.vault);
    if (recoverPayer(domain, v, offer.signature) !== v.payer) {
      return refuse("bad_signature", `the signature is not the payer ${v.payer}'s`);
    }
    const hash = hashVoucher(domain, v);
    const stale = staleness(meta);
    if (stale !== undefined) return stale;
    const outside = window(v.validAfter, v.validBefore, BigInt(meta.limits.maxVoucherAge));
    if (outside !== undefined) return outside;
    const payer = store.payer(v.payer);
    if (payer?.cheater === true) return refuse("payer_cheater", `${v.payer} is flagged a cheater by the vault`);
    if (v.amount > meta.limits.maxPerVoucher) {
      return refuse("over_voucher_limit", `${v.amount} is above the per-voucher limit ${meta.limits.maxPerVoucher}`);
    }

    // The lane's chain: what the vault had redeemed at the sync, then what this merchant holds beyond it.
    const lanes = new Map<bigint, LaneView>();
    for (const l of store.lanesOf(v.payer)) lanes.set(l.lane, l);
    const laneOf = (lane: bigint): LaneView =>
      lanes.get(lane) ?? {
        payer: v.payer,
        lane,
        lastSequence: 0n,
        lastHash: ZeroHash,
        epoch: meta.epoch,
        epochRedeemed: 0n,
      };
    const held = store.vouchersOf(v.payer).filter((x) => x.kind === "secured" && LIVE_STATES.has(x.state));
    const unreflected = held.filter((x) => x.lane !== undefined && x.sequence! > laneOf(x.lane).lastSequence);
    const synced = laneOf(v.lane);
    let tipSequence = synced.lastSequence;
    let tipHash = synced.lastHash;
    for (const x of unreflected) {
      if (x.lane === v.lane && x.sequence! > tipSequence) {
        tipSequence = x.sequence!;
        tipHash = x.hash;
      }
    }
    if (held.some((x) => x.hash === hash)) return refuse("duplicate_sequence", "this voucher was already taken");
    if (v.sequence <= tipSequence) {
      return refuse(
        "duplicate_sequence",
        `sequence ${v.sequence} of lane ${v.lane} is already used (last ${tipSequence}): a double-spend attempt`,
      );
    }
    if (v.sequence !== tipSequence + 1n) {
      return refuse("sequence_gap", `expected sequence ${tipSequence + 1n} of lane ${v.lane}, got ${v.sequence}`);
    }
    if (v.previousVoucherHash !== tipHash.toLowerCase()) {
      return refuse("broken_chain", `previousVoucherHash is not the hash ${tipHash} of sequence ${tipSequence}`);
    }
    const heldOnLane = sum(unreflected.filter((x) => x.lane === v.lane).map((x) => x.amount));
    if (synced.epochRedeemed + heldOnLane + v.amount > meta.limits.maxPerLane) {
      return refuse(
        "over_lane_limit",
        `lane total ${synced.epochRedeemed} + ${heldOnLane} held + ${v.amount} is above ${meta.limits.maxPerLane}`,
      );
    }
    const heldForPayer = sum(unreflected.map((x) => x.amount));
    const epochRedeemed = payer?.epochRedeemed ?? 0n;
    if (epochRedeemed + heldForPayer + v.amount > meta.limits.maxPerEpoch) {
      return refuse(
        "over_epoch_limit",
        `payer total ${epochRedeemed} + ${heldForPayer} held + ${v.amount} is above ${meta.limits.maxPerEpoch}`,
      );
    }
    const locked = payer?.locked ?? 0n;
    const pendingWithdrawal = payer?.pendingWithdrawal ?? 0n;
    if (locked - heldForPayer < v.amount) {
      return refuse("insufficient_locked", `locked ${locked} less ${heldForPayer} held does not cover ${v.amount}`);
    }
    if (locked - pendingWithdrawal - heldForPayer < v.amount) {
      return refuse(
        "withdrawal_pending",
        `locked ${locked} less a pending withdrawal of ${pendingWithdrawal} and ${heldForPayer} held does not cover ${v.amount}`,
      );
    }
    return {
      ok: true,
      voucher: stored({
        hash,
        kind: "secured",
        requestId: request.requestId,
        chainId: meta.chainId,
        contract: meta.vault,
        payer: v.payer,
        merchant: v.merchant,
        amount: v.amount,
        lane: v.lane,
        sequence: v.sequence,
        previousHash: v.previousVoucherHash,
        nonce: undefined,
        validAfter: v.validAfter,
        validBefore: v.validBefore,
        signature: offer.signature.toLowerCase(),
        acceptedAt: nowMs,
      }),
    };
  },

  async prepare({ wallet, payer, request, lane }) {
    const state = await lane.next();
    const voucher: Voucher = {
      payer,
      merchant: getAddress(request.merchant),
      amount: BigInt(request.amount),
      lane: BigInt(request.lane),
      sequence: state.nextSequence,
      previousVoucherHash: state.lastHash,
      validAfter: BigInt(request.validAfter),
      validBefore: BigInt(request.validBefore),
    };
    const domain = vaultDomain(BigInt(request.chainId), request.vault);
    const signature = await signVoucher(wallet, domain, voucher);
    const voucherHash = hashVoucher(domain, voucher);
    // Durable before it leaves: if the answer never comes, the lane is uncertain, not silently reused.
    lane.setInFlight({ sequence: voucher.sequence, hash: voucherHash });
    return {
      message: {
        type: "voucher_offer",
        version: PROTOCOL_VERSION,
        requestId: request.requestId,
        kind: "secured",
        voucher: voucherToJson(voucher),
        signature,
      },
      voucherHash,
      settle(decision) {
        if (decision.outcome !== "accepted") {
          lane.setInFlight(undefined);
          return undefined;
        }
        if (decision.voucherHash.toLowerCase() !== voucherHash) return "the merchant accepted another voucher hash";
        lane.advance(voucher.sequence, voucherHash);
        return undefined;
      },
    };
  },

  async findOnChain(v, provider) {
    const vault = OfflineVault__factory.connect(v.contract, provider);
    const [redeemed] = await vault.redeemedAt(v.payer, v.lane!, v.sequence!);
    const isLaneHead = redeemed.toLowerCase() === v.hash;
    if (!isLaneHead && !(await vault.isSettled(v.hash))) return undefined;
    // Redeemed, or compensated: as a voucher of a double spend, or out of its lane after its payer was flagged
    // (a compensated voucher that was its lane's next link is the lane's head too).
    const [slashes, compensations, claims, [, , owed]] = await Promise.all([
      vault.queryFilter(vault.filters.DoubleSpendSlashed(v.payer, v.lane!)),
      vault.queryFilter(vault.filters.VoucherCompensated(v.hash)),
      vault.queryFilter(vault.filters.OwedClaimed(v.hash)),
      vault.owedOf(v.hash),
    ]);
    let paid = 0n;
    // A voucher A with `paidA == 0` was redeemed before the conflict (or owed all: then `owed` or a claim says so).
    let compensated = owed > 0n || compensations.length > 0 || claims.length > 0;
    for (const e of slashes) {
      if (e.args.hashB.toLowerCase() === v.hash) paid += e.args.paidB;
      else if (e.args.hashA.toLowerCase() === v.hash && e.args.paidA > 0n) paid += e.args.paidA;
      else continue;
      compensated = true;
    }
    if (isLaneHead && !compensated) return { state: "settled", paid: v.amount, reason: "found redeemed on chain" };
    for (const e of compensations) paid += e.args.paid;
    for (const e of claims) paid += e.args.paid;
    if (owed > 0n) return { state: "owed", paid, owed, reason: "found compensated on chain, part owed" };
    return { state: "slashed", paid, reason: "found compensated on chain" };
  },
};
