// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {ERC1967Proxy} from "@openzeppelin/contracts/proxy/ERC1967/ERC1967Proxy.sol";
import {InteroperableAddress} from "@openzeppelin/contracts/utils/draft-InteroperableAddress.sol";
import {Test} from "forge-std/Test.sol";

import {AttestedGateway} from "../../interop/AttestedGateway.sol";
import {BridgeRegistry} from "../../interop/BridgeRegistry.sol";
import {BurnMintLane} from "../../interop/BurnMintLane.sol";
import {ChainRegistry} from "../../interop/ChainRegistry.sol";
import {IAttestedGateway} from "../../interop/interfaces/IAttestedGateway.sol";
import {IIssuanceGate} from "../../reserves/interfaces/IIssuanceGate.sol";
import {ReserveLedger} from "../../reserves/ReserveLedger.sol";
import {BankToken} from "../../token/BankToken.sol";

/// @dev Two (or more) chains simulated in one EVM. The AttestedGateway has no chain-id override (it reads
///      `block.chainid` for its EIP-712 domain, for the messages it numbers and for the destination check), so a
///      "chain" is a set of contracts that is only ever called after `vm.chainId(set.id)`: `_on(set)` switches to
///      it. Both chains share one clock (`block.timestamp`) and one address space; nothing on one chain ever calls a
///      contract of the other, the test (the relayer and the attesters) carries the messages across.
///
///      Each set: a BankToken (behind its proxy) with its ReserveLedger, one issuing bank (`issuer`, an EOA minter
///      with an attested reserve), a ChainRegistry and BridgeRegistry, an AttestedGateway with the 2-of-3 attester
///      set, and a BurnMintLane that is a minter, a bridge account of the ledger and the only bridge of its routes.
abstract contract LaneFixture is Test {
    struct ChainSet {
        uint256 id;
        BankToken token;
        ReserveLedger ledger;
        ChainRegistry chains;
        BridgeRegistry registry;
        AttestedGateway gateway;
        BurnMintLane lane;
        address issuer;
    }

    uint256 internal constant CHAIN_A = 4242;
    uint256 internal constant CHAIN_B = 4343;
    uint48 internal constant ADMIN_DELAY = 3 days;
    uint64 internal constant TTL = 1 days;
    uint64 internal constant REFUND_DELAY = 1 hours;
    uint32 internal constant MIN_DELIVERY_GAS = 200_000;
    uint256 internal constant SUPPLY_CAP = 1e15;
    uint256 internal constant RESERVE = 1e13;
    uint256 internal constant MINTER_ALLOWANCE = 1e14;
    uint256 internal constant NET_IMPORT_CAP = 1e12;
    uint208 internal constant ROUTE_CAPACITY = 1e12;
    uint48 internal constant ROUTE_WINDOW = 1 days;
    uint256 internal constant T0 = 1_700_000_000;

    address internal admin = makeAddr("admin");
    address internal relayer = makeAddr("relayer");

    /// @dev The attesters, sorted by address, and their keys.
    address[3] internal attester;
    uint256[3] internal attesterKey;

    function _makeAttesters() internal {
        for (uint256 i; i < 3; ++i) {
            (attester[i], attesterKey[i]) = makeAddrAndKey(string.concat("attester", vm.toString(i)));
        }
        for (uint256 i; i < 3; ++i) {
            for (uint256 j = i + 1; j < 3; ++j) {
                if (attester[j] < attester[i]) {
                    (attester[i], attester[j]) = (attester[j], attester[i]);
                    (attesterKey[i], attesterKey[j]) = (attesterKey[j], attesterKey[i]);
                }
            }
        }
    }

    /// @dev Deploys one chain's set (the admin holds every role), on chain `id`.
    function _deployChain(uint256 id, string memory bank) internal returns (ChainSet memory set) {
        vm.chainId(id);
        set.id = id;
        set.issuer = makeAddr(bank);
        BankToken implementation = new BankToken();
        bytes memory init = abi.encodeCall(
            BankToken.initialize,
            ("Bank Dollar", "bUSD", bytes3("USD"), 2, SUPPLY_CAP, IIssuanceGate(address(0)), admin, ADMIN_DELAY)
        );
        set.token = BankToken(address(new ERC1967Proxy(address(implementation), init)));
        set.ledger = new ReserveLedger(admin, ADMIN_DELAY, address(set.token), 2);
        set.chains = new ChainRegistry(admin, ADMIN_DELAY);
        set.registry = new BridgeRegistry(admin, ADMIN_DELAY, set.chains);
        set.gateway = new AttestedGateway(admin, ADMIN_DELAY, TTL, REFUND_DELAY, MIN_DELIVERY_GAS);
        set.lane = new BurnMintLane(
            admin,
            ADMIN_DELAY,
            address(set.token),
            address(set.gateway),
            address(set.registry)
        );
        _grantAll(set);
        vm.startPrank(admin);
        set.token.setIssuanceGate(set.ledger);
        set.token.configureMinter(set.issuer, MINTER_ALLOWANCE);
        set.token.configureMinter(address(set.lane), MINTER_ALLOWANCE);
        set.ledger.registerIssuer(set.issuer, 10_000, 30 days);
        set.ledger.attestReserve(set.issuer, RESERVE, block.timestamp);
        set.ledger.registerBridge(address(set.lane), NET_IMPORT_CAP);
        set.gateway.setAttesterSet(_attesterList(), 2);
        vm.stopPrank();
    }

    function _grantAll(ChainSet memory set) private {
        bytes32 minterAdmin = set.token.MINTER_ADMIN_ROLE();
        bytes32 pauser = set.token.PAUSER_ROLE();
        bytes32 compliance = set.token.COMPLIANCE_ROLE();
        bytes32 reserveAdmin = set.ledger.RESERVE_ADMIN_ROLE();
        bytes32 attestor = set.ledger.ATTESTOR_ROLE();
        bytes32 chainAdmin = set.chains.CHAIN_ADMIN_ROLE();
        bytes32 routeAdmin = set.registry.ROUTE_ADMIN_ROLE();
        bytes32 routePauser = set.registry.PAUSER_ROLE();
        bytes32 gatewayAdmin = set.gateway.GATEWAY_ADMIN_ROLE();
        bytes32 gatewayPauser = set.gateway.PAUSER_ROLE();
        bytes32 linkAdmin = set.lane.LINK_ADMIN_ROLE();
        vm.startPrank(admin);
        set.token.grantRole(minterAdmin, admin);
        set.token.grantRole(pauser, admin);
        set.token.grantRole(compliance, admin);
        set.ledger.grantRole(reserveAdmin, admin);
        set.ledger.grantRole(attestor, admin);
        set.chains.grantRole(chainAdmin, admin);
        set.registry.grantRole(routeAdmin, admin);
        set.registry.grantRole(routePauser, admin);
        set.gateway.grantRole(gatewayAdmin, admin);
        set.gateway.grantRole(gatewayPauser, admin);
        set.lane.grantRole(linkAdmin, admin);
        vm.stopPrank();
    }

    /// @dev Registers `a` and `b` with each other: chains, gateway counterparts, lane links, and on each registry
    ///      the two routes of the local token (out and back) with the lane as preferred bridge and both limits.
    function _connect(ChainSet memory a, ChainSet memory b) internal {
        _connectOneWay(a, b);
        _connectOneWay(b, a);
    }

    function _connectOneWay(ChainSet memory here, ChainSet memory there) private {
        vm.chainId(here.id);
        vm.startPrank(admin);
        if (!here.chains.isRegistered(here.id)) {
            here.chains.registerChain(here.id, string.concat("eip155:", vm.toString(here.id)), true);
        }
        here.chains.registerChain(there.id, string.concat("eip155:", vm.toString(there.id)), true);
        here.gateway.setCounterpart(there.id, address(there.gateway));
        here.lane.setLink(there.id, address(there.lane), false);
        _route(here, here.id, there.id);
        _route(here, there.id, here.id);
        vm.stopPrank();
    }

    function _route(ChainSet memory here, uint256 source, uint256 destination) private {
        bytes32 key = here.registry.addRoute(source, destination, address(here.token));
        here.registry.allowBridge(key, address(here.lane));
        here.registry.selectBridges(key, address(here.lane), address(0));
        here.registry.setRateLimit(key, true, ROUTE_CAPACITY, ROUTE_WINDOW);
        here.registry.setRateLimit(key, false, ROUTE_CAPACITY, ROUTE_WINDOW);
    }

    function _attesterList() internal view returns (address[] memory list) {
        list = new address[](3);
        for (uint256 i; i < 3; ++i) list[i] = attester[i];
    }

    function _on(ChainSet memory set) internal {
        vm.chainId(set.id);
    }

    /// @dev The issuer of `set` mints `amount` to `to`.
    function _issue(ChainSet memory set, address to, uint256 amount) internal {
        _on(set);
        vm.prank(set.issuer);
        set.token.mint(to, amount, "deposit");
    }

    /// @dev The message the lane of `from` posts for a transfer of `amount` by `sender` to `to` on `dst`, sent now
    ///      with `deadline` (0: the gateway's default) as `nonce`.
    function _laneMessage(
        ChainSet memory src,
        ChainSet memory dst,
        uint256 nonce,
        address sender,
        address to,
        uint256 amount,
        uint64 deadline
    ) internal view returns (IAttestedGateway.Message memory) {
        return
            IAttestedGateway.Message({
                sourceChainId: src.id,
                sourceGateway: address(src.gateway),
                nonce: nonce,
                destinationChainId: dst.id,
                destinationGateway: address(dst.gateway),
                sender: address(src.lane),
                recipient: address(dst.lane),
                deadline: deadline == 0 ? uint64(block.timestamp) + TTL : deadline,
                payload: abi.encode(InteroperableAddress.formatEvmV1(src.id, sender), abi.encodePacked(to), amount)
            });
    }

    /// @dev `sender` sends `amount` on `src` to `to` on `dst` through the lane (approving it first); returns the
    ///      message as the gateway posted it.
    function _laneSend(
        ChainSet memory src,
        ChainSet memory dst,
        address sender,
        address to,
        uint256 amount,
        uint64 deadline
    ) internal returns (IAttestedGateway.Message memory message) {
        _on(src);
        message = _laneMessage(src, dst, src.gateway.nextNonce(), sender, to, amount, deadline);
        vm.startPrank(sender);
        src.token.approve(address(src.lane), amount);
        bytes32 id = src.lane.crosschainTransfer(InteroperableAddress.formatEvmV1(dst.id, to), amount, deadline);
        vm.stopPrank();
        assertEq(id, src.gateway.messageId(message), "sendId is the gateway's message id");
    }

    function _sign(uint256 key, bytes32 digest) internal pure returns (bytes memory) {
        (uint8 v, bytes32 r, bytes32 s) = vm.sign(key, digest);
        return abi.encodePacked(r, s, v);
    }

    /// @dev Attesters 0 and 1 sign the delivery of `message` for the gateway of `dst` (switches to `dst`).
    function _attest(
        ChainSet memory dst,
        IAttestedGateway.Message memory message
    ) internal returns (bytes[] memory sigs) {
        _on(dst);
        bytes32 digest = dst.gateway.attestationDigest(dst.gateway.messageId(message), dst.gateway.epoch());
        sigs = new bytes[](2);
        sigs[0] = _sign(attesterKey[0], digest);
        sigs[1] = _sign(attesterKey[1], digest);
    }

    /// @dev Attesters 0 and 1 sign that `message` was not delivered, for the gateway of `src` (switches to `src`).
    function _attestUndelivered(
        ChainSet memory src,
        IAttestedGateway.Message memory message
    ) internal returns (bytes[] memory sigs) {
        _on(src);
        bytes32 digest = src.gateway.undeliveredDigest(src.gateway.messageId(message), src.gateway.epoch());
        sigs = new bytes[](2);
        sigs[0] = _sign(attesterKey[0], digest);
        sigs[1] = _sign(attesterKey[1], digest);
    }

    /// @dev The relayer delivers `message` on `dst` with a 2-of-3 attestation.
    function _deliver(ChainSet memory dst, IAttestedGateway.Message memory message) internal {
        bytes[] memory sigs = _attest(dst, message);
        vm.prank(relayer);
        dst.gateway.deliver(message, sigs);
    }

    /// @dev On `set`: supply == issuers' outstanding + the bridges' imports - their exports, written without a
    ///      negative.
    function _assertChainIdentity(ChainSet memory set) internal view {
        (uint256 imported, uint256 exported) = _bridgeTotals(set);
        assertEq(
            set.token.totalSupply() + exported,
            set.ledger.totalOutstanding() + imported,
            "supply == outstanding + net import"
        );
    }

    /// @dev The imports and exports of every bridge account of `set`'s ledger.
    function _bridgeTotals(ChainSet memory set) internal view returns (uint256 imported, uint256 exported) {
        address[] memory bridges = set.ledger.bridges();
        for (uint256 i; i < bridges.length; ++i) {
            (uint256 imp, uint256 exp, ) = set.ledger.bridgeOf(bridges[i]);
            imported += imp;
            exported += exp;
        }
    }
}
