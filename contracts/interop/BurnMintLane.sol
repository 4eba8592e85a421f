// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

// solhint-disable-next-line max-line-length
import {AccessControlDefaultAdminRules} from "@openzeppelin/contracts/access/extensions/AccessControlDefaultAdminRules.sol";
import {BridgeFungible} from "@openzeppelin/contracts/crosschain/bridges/abstract/BridgeFungible.sol";
import {CrosschainLinked} from "@openzeppelin/contracts/crosschain/CrosschainLinked.sol";
import {IERC7786GatewaySource} from "@openzeppelin/contracts/interfaces/draft-IERC7786.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {InteroperableAddress} from "@openzeppelin/contracts/utils/draft-InteroperableAddress.sol";

import {IBankToken} from "../token/interfaces/IBankToken.sol";
import {BridgeRegistry} from "./BridgeRegistry.sol";
import {IRefundableSender} from "./interfaces/IAttestedGateway.sol";
import {IBurnMintLane} from "./interfaces/IBurnMintLane.sol";

/// @title BurnMintLane
/// @notice Moves one BankToken between EVM chains over one ERC-7786 gateway (the AttestedGateway): burned here,
///         minted by the counterpart lane on the destination, minted back here if the message expires undelivered.
/// @dev Built on OpenZeppelin's `BridgeFungible` (its events, its payload `abi.encode(bytes from, bytes to, uint256
///      amount)` with ERC-7930 addresses, and its public `crosschainTransfer(bytes,uint256)`, which sends with the
///      gateway's default deadline) and `CrosschainLinked` (one link per chain: this lane's gateway and the
///      counterpart lane; a message is accepted only from that gateway and that counterpart). The send and receive
///      paths are this contract's own (`_crosschainTransfer` and `_processMessage` are overridden) because the lane
///      must know the remote chain on both sides (for the BridgeRegistry's route limits), pass the deadline
///      attribute, take the tokens from a payer other than the refund address (the InteropGateway), and name the
///      message in the token's `Burn`/`Mint` references.
///
///      Roles:
///      - `DEFAULT_ADMIN_ROLE` (one holder, handed over in two steps after a delay): grants and revokes roles.
///      - `LINK_ADMIN_ROLE`: sets the counterpart lane of each chain (`setLink`).
///      - `ROUTER_ROLE`: the InteropGateway, which may send on behalf of a signer (`crosschainTransferFor`).
///
///      Outside this contract: the lane must be a minter of the token (the `MINTER_ADMIN_ROLE` sets its allowance,
///      which receives and refunds spend and burns do not restore), a bridge account of the token's ReserveLedger
///      (`registerBridge`: its burns are exports, its mints imports within a net import cap), and an allowed bridge of
///      each route in the BridgeRegistry, with the route's limits set.
///
///      Conservation: a send burns `amount` here (the ledger's exports grow); the gateway delivers the message at
///      most once, and only until its deadline; a delivery mints `amount` on the destination (its imports grow); a
///      refund (only after the deadline, with attesters' word that the message was not delivered) mints it back
///      here. So the sum of the supplies over chains plus the tokens in flight is what the issuers issued.
///
///      Failure: a receive that reverts (token paused, recipient frozen, inbound limit or the ledger's cap reached,
///      minter allowance spent) leaves the message `Failed` at the gateway, retryable by anyone until its deadline,
///      then refundable here. A refund that reverts (same causes, for the sender) can be tried again.
contract BurnMintLane is IBurnMintLane, IRefundableSender, BridgeFungible, AccessControlDefaultAdminRules {
    using SafeERC20 for IERC20;

    /// @notice Sets the counterpart lane of each chain.
    bytes32 public constant LINK_ADMIN_ROLE = keccak256("LINK_ADMIN_ROLE");
    /// @notice May send on behalf of another account (the InteropGateway).
    bytes32 public constant ROUTER_ROLE = keccak256("ROUTER_ROLE");
    /// @notice The gateway attribute that carries a message's deadline.
    bytes4 public constant DEADLINE_ATTRIBUTE = bytes4(keccak256("deadline(uint64)"));

    IBankToken private immutable _token;
    address private immutable _gateway;
    BridgeRegistry private immutable _bridgeRegistry;

    /// @dev The counterpart lane of each linked chain: the same link as `CrosschainLinked`'s (`setLink` writes
    ///      both), in one slot, for the send and the receive check (the base's link takes two slots and an encoding
    ///      of the chain as its key).
    mapping(uint256 chainId => address counterpart) private _counterparts;

    /// @param admin The default admin.
    /// @param adminDelay The delay of a default admin handover.
    /// @param token_ The BankToken (its proxy) this lane moves.
    /// @param gateway_ The ERC-7786 gateway (AttestedGateway) of this chain.
    /// @param bridgeRegistry_ The BridgeRegistry of this chain, whose routes this lane draws on.
    constructor(
        address admin,
        uint48 adminDelay,
        address token_,
        address gateway_,
        address bridgeRegistry_
    ) CrosschainLinked(new Link[](0)) AccessControlDefaultAdminRules(adminDelay, admin) {
        if (token_ == address(0) || gateway_ == address(0) || bridgeRegistry_ == address(0)) {
            revert BurnMintLaneZeroAddress();
        }
        _token = IBankToken(token_);
        _gateway = gateway_;
        _bridgeRegistry = BridgeRegistry(bridgeRegistry_);
    }

    /// @inheritdoc IBurnMintLane
    /// @dev A `deadline` of 0 sends with the gateway's default time to live; otherwise it must be in the future (and
    ///      within the gateway's `MAX_TTL`). `to` must be a canonical ERC-7930 EVM address on a linked chain.
    function crosschainTransfer(bytes calldata to, uint256 amount, uint64 deadline) external returns (bytes32) {
        return _send(msg.sender, msg.sender, to, amount, deadline);
    }

    /// @inheritdoc IBurnMintLane
    /// @dev Only `ROUTER_ROLE`. The tokens come from the caller; `from` is who the transfer is from in the payload
    ///      and who a refund goes to. `deadline` as for `crosschainTransfer`.
    function crosschainTransferFor(
        address from,
        bytes calldata to,
        uint256 amount,
        uint64 deadline
    ) external onlyRole(ROUTER_ROLE) returns (bytes32) {
        return _send(from, msg.sender, to, amount, deadline);
    }

    /// @inheritdoc IRefundableSender
    /// @dev Only the gateway, which calls it once per nonce this lane sent under, for a message that expired
    ///      undelivered (attested). Draws `amount` on the inbound limit of the reverse route (`destinationChainId` ->
    ///      this chain), then mints it back to the transfer's `from`, with the message id as the reference; recorded
    ///      by the ledger as an import, undoing the send's export. The gateway keeps no record of what was sent, so
    ///      the payload is only as true as the attesters who signed it undelivered: the route limit bounds a refund
    ///      they forge exactly as it bounds a delivery from that chain they forge (the same bucket), on top of the
    ///      ledger's net import cap and the minter allowance. An honest refund spends that limit too (it undoes an
    ///      export, but this chain cannot tell it from a forgery); over the limit it reverts and can be tried again.
    function onMessageRefunded(bytes32 messageId, uint256 destinationChainId, bytes calldata payload) external {
        if (msg.sender != _gateway) revert BurnMintLaneNotGateway(msg.sender);
        (bytes memory fromAddress, , uint256 amount) = abi.decode(payload, (bytes, bytes, uint256));
        (, address from) = InteroperableAddress.parseEvmV1(fromAddress);
        _bridgeRegistry.consumeInbound(routeKey(destinationChainId, block.chainid), amount);
        _token.mint(from, amount, messageId);
        emit CrosschainTransferRefunded(messageId, from, amount);
    }

    /// @notice Links `counterpart`, the lane on `chainId`, through this lane's gateway: messages to `chainId` go to
    ///         it, and messages from `chainId` are accepted only from it.
    /// @dev Only `LINK_ADMIN_ROLE`. Without `allowOverride` an existing link is kept (`LinkAlreadyRegistered`). The
    ///      ERC-7930 address is formatted here, so it is canonical: a chain's link is found by the chain's canonical
    ///      encoding, which is what the gateway gives as a message's sender.
    /// @param chainId The remote chain's EVM chain id: neither zero nor this chain.
    /// @param counterpart The lane on that chain.
    /// @param allowOverride Whether to replace an existing link.
    function setLink(uint256 chainId, address counterpart, bool allowOverride) external onlyRole(LINK_ADMIN_ROLE) {
        if (chainId == 0 || chainId == block.chainid) revert BurnMintLaneUnknownDestination(chainId);
        if (counterpart == address(0)) revert BurnMintLaneZeroAddress();
        _setLink(_gateway, InteroperableAddress.formatEvmV1(chainId, counterpart), allowOverride);
        _counterparts[chainId] = counterpart;
    }

    /// @inheritdoc IBurnMintLane
    function token() external view returns (address) {
        return address(_token);
    }

    /// @inheritdoc IBurnMintLane
    function gateway() external view returns (address) {
        return _gateway;
    }

    /// @inheritdoc IBurnMintLane
    function bridgeRegistry() external view returns (address) {
        return address(_bridgeRegistry);
    }

    /// @notice The BridgeRegistry route key of `(sourceChainId, destinationChainId, token)`.
    /// @param sourceChainId The source chain.
    /// @param destinationChainId The destination chain.
    /// @return The key, as `BridgeRegistry.routeKey` computes it.
    function routeKey(uint256 sourceChainId, uint256 destinationChainId) public view returns (bytes32) {
        return keccak256(abi.encode(sourceChainId, destinationChainId, address(_token)));
    }

    /// @dev OpenZeppelin's `crosschainTransfer(bytes,uint256)` lands here: sent by the caller, with the gateway's
    ///      default deadline.
    function _crosschainTransfer(address from, bytes memory to, uint256 amount) internal override returns (bytes32) {
        return _send(from, from, to, amount, 0);
    }

    /// @dev Delivered by the gateway from the linked counterpart (checked by `CrosschainLinked` before this runs):
    ///      draws `amount` on the route's inbound limit, then mints it to `to` with the message id as the reference.
    ///      Any revert leaves the message `Failed` at the gateway, to retry or refund.
    function _processMessage(
        address /* gateway */,
        bytes32 receiveId,
        bytes calldata sender,
        bytes calldata payload
    ) internal override {
        (uint256 sourceChainId, ) = InteroperableAddress.parseEvmV1Calldata(sender);
        (bytes memory from, bytes memory toEvm, uint256 amount) = abi.decode(payload, (bytes, bytes, uint256));
        address to = address(bytes20(toEvm));
        _bridgeRegistry.consumeInbound(routeKey(sourceChainId, block.chainid), amount);
        _token.mint(to, amount, receiveId);
        emit CrosschainFungibleTransferReceived(receiveId, from, to, amount);
    }

    /// @dev `CrosschainLinked`'s check, answered from the lane's one-slot copy of the link: only this lane's gateway,
    ///      relaying the linked counterpart of the sender's chain, in the canonical ERC-7930 encoding (the one
    ///      `setLink` formats and the gateway gives).
    function _isAuthorizedGateway(address instance, bytes calldata sender) internal view override returns (bool) {
        if (instance != _gateway) return false;
        (bool ok, uint256 chainId, address account) = InteroperableAddress.tryParseEvmV1Calldata(sender);
        if (!ok || account == address(0) || account != _counterparts[chainId]) return false;
        return keccak256(sender) == keccak256(InteroperableAddress.formatEvmV1(chainId, account));
    }

    /// @dev `BridgeFungible`'s send hook: takes `amount` from `payer` into the lane (pause and freeze apply).
    function _onSend(address payer, uint256 amount) internal override {
        IERC20(address(_token)).safeTransferFrom(payer, address(this), amount);
    }

    /// @dev `BridgeFungible`'s receive hook, which its `_processMessage` calls; this lane overrides
    ///      `_processMessage` and mints there with the message id as the reference, so nothing calls this. Kept true
    ///      to the hook's meaning (mint to `to`) should a subclass restore OpenZeppelin's receive path.
    function _onReceive(address to, uint256 amount) internal override {
        _token.mint(to, amount, bytes32(0));
    }

    /// @dev The send: checks, the route's outbound limit, the tokens from `payer`, the message (with the deadline
    ///      attribute unless `deadline` is 0), then the burn named by the message id.
    function _send(
        address from,
        address payer,
        bytes memory to,
        uint256 amount,
        uint64 deadline
    ) private returns (bytes32 sendId) {
        if (from == address(0)) revert BurnMintLaneZeroAddress();
        if (amount == 0) revert BurnMintLaneZeroAmount();
        (uint256 destinationChainId, address recipient) = _parseRecipient(to);
        address counterpart = _counterparts[destinationChainId];
        if (counterpart == address(0)) revert BurnMintLaneUnknownDestination(destinationChainId);
        bytes[] memory attributes = _attributes(deadline);
        _bridgeRegistry.consumeOutbound(routeKey(block.chainid, destinationChainId), amount);
        _onSend(payer, amount);
        sendId = IERC7786GatewaySource(_gateway).sendMessage(
            InteroperableAddress.formatEvmV1(destinationChainId, counterpart),
            abi.encode(InteroperableAddress.formatEvmV1(block.chainid, from), abi.encodePacked(recipient), amount),
            attributes
        );
        _token.burn(amount, sendId);
        emit CrosschainFungibleTransferSent(sendId, from, to, amount);
    }

    /// @dev The chain and account of `to`, a canonical ERC-7930 EVM address with a non-zero account.
    function _parseRecipient(bytes memory to) private pure returns (uint256 chainId, address account) {
        bool ok;
        (ok, chainId, account) = InteroperableAddress.tryParseEvmV1(to);
        if (!ok || keccak256(to) != keccak256(InteroperableAddress.formatEvmV1(chainId, account))) {
            revert BurnMintLaneBadRecipient(to);
        }
        if (account == address(0)) revert BurnMintLaneZeroAddress();
    }

    /// @dev The gateway attributes for `deadline`: none for 0 (the gateway's default), else `deadline(uint64)`, which
    ///      must be in the future (the gateway also bounds it from above).
    function _attributes(uint64 deadline) private view returns (bytes[] memory attributes) {
        if (deadline == 0) return attributes;
        if (deadline <= block.timestamp) revert BurnMintLaneBadDeadline(deadline);
        attributes = new bytes[](1);
        attributes[0] = abi.encodeWithSelector(DEADLINE_ATTRIBUTE, deadline);
    }
}
