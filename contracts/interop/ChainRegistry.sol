// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

// solhint-disable-next-line max-line-length
import {AccessControlDefaultAdminRules} from "@openzeppelin/contracts/access/extensions/AccessControlDefaultAdminRules.sol";
import {CAIP2} from "@openzeppelin/contracts/utils/CAIP2.sol";
import {InteroperableAddress} from "@openzeppelin/contracts/utils/draft-InteroperableAddress.sol";
import {Strings} from "@openzeppelin/contracts/utils/Strings.sol";

/// @title ChainRegistry
/// @notice The EVM chains the interop layer may reach: each by its EVM chain id, its CAIP-2 id (`eip155:<id>`)
///         and its ERC-7930 interoperable address prefix, and whether it is enabled.
/// @dev Roles:
///      - `DEFAULT_ADMIN_ROLE` (one holder, handed over in two steps after a delay): grants and revokes roles.
///      - `CHAIN_ADMIN_ROLE`: registers chains and enables or disables them.
///
///      RPC endpoints are kept off chain (in the services' configuration): they change often, are not
///      trust-relevant on chain and must not be public. A chain is never removed, only disabled, so its CAIP-2 id
///      keeps mapping to the same EVM chain id. The CAIP-2 id must be the canonical `eip155:<decimal chain id>`
///      (no leading zeros, no other namespace), so one chain has exactly one CAIP-2 id.
contract ChainRegistry is AccessControlDefaultAdminRules {
    using Strings for uint256;

    /// @notice The role that registers, enables and disables chains.
    bytes32 public constant CHAIN_ADMIN_ROLE = keccak256("CHAIN_ADMIN_ROLE");

    /// @notice A registered chain as the views return it.
    struct ChainInfo {
        uint256 chainId;
        string caip2;
        bytes interoperablePrefix;
        bool enabled;
    }

    struct Chain {
        string caip2;
        bool registered;
        bool enabled;
    }

    mapping(uint256 chainId => Chain) private _chains;
    mapping(bytes32 caip2Hash => uint256 chainId) private _chainIdOfCaip2;

    /// @notice The chain id is zero.
    error ZeroChainId();
    /// @notice The chain is registered already.
    error ChainAlreadyRegistered(uint256 chainId);
    /// @notice The CAIP-2 id is not the canonical `eip155:<chainId>`.
    error InvalidCaip2(uint256 chainId, string caip2);
    /// @notice The chain is not registered.
    error UnknownChain(uint256 chainId);
    /// @notice No registered chain has this CAIP-2 id.
    error UnknownCaip2(string caip2);
    /// @notice The chain is already in the requested state.
    error ChainStateUnchanged(uint256 chainId, bool enabled);

    /// @notice A chain was registered.
    event ChainRegistered(uint256 indexed chainId, string caip2, bytes interoperablePrefix, bool enabled);
    /// @notice A chain was enabled or disabled.
    event ChainEnabledSet(uint256 indexed chainId, bool enabled);

    /// @param initialAdmin The default admin.
    /// @param adminDelay The delay of a default admin handover.
    constructor(address initialAdmin, uint48 adminDelay) AccessControlDefaultAdminRules(adminDelay, initialAdmin) {}

    /// @notice Registers a chain.
    /// @param chainId The EVM chain id (non-zero).
    /// @param caip2 Its CAIP-2 id, exactly `eip155:<chainId>` in decimal.
    /// @param enabled Whether it starts enabled.
    function registerChain(uint256 chainId, string calldata caip2, bool enabled) external onlyRole(CHAIN_ADMIN_ROLE) {
        require(chainId != 0, ZeroChainId());
        Chain storage chain = _chains[chainId];
        require(!chain.registered, ChainAlreadyRegistered(chainId));
        require(_isCanonicalCaip2(chainId, caip2), InvalidCaip2(chainId, caip2));
        chain.caip2 = caip2;
        chain.registered = true;
        chain.enabled = enabled;
        _chainIdOfCaip2[keccak256(bytes(caip2))] = chainId;
        emit ChainRegistered(chainId, caip2, InteroperableAddress.formatEvmV1(chainId), enabled);
    }

    /// @notice Enables or disables a registered chain.
    function setChainEnabled(uint256 chainId, bool enabled) external onlyRole(CHAIN_ADMIN_ROLE) {
        Chain storage chain = _chains[chainId];
        require(chain.registered, UnknownChain(chainId));
        require(chain.enabled != enabled, ChainStateUnchanged(chainId, enabled));
        chain.enabled = enabled;
        emit ChainEnabledSet(chainId, enabled);
    }

    /// @notice Whether the chain is registered.
    function isRegistered(uint256 chainId) external view returns (bool) {
        return _chains[chainId].registered;
    }

    /// @notice Whether the chain is registered and enabled.
    function isEnabled(uint256 chainId) external view returns (bool) {
        return _chains[chainId].enabled;
    }

    /// @notice Whether both chains are registered and enabled (one call for a route's two ends).
    function areEnabled(uint256 chainIdA, uint256 chainIdB) external view returns (bool) {
        return _chains[chainIdA].enabled && _chains[chainIdB].enabled;
    }

    /// @notice The registered chain; reverts `UnknownChain` otherwise.
    function chainOf(uint256 chainId) external view returns (ChainInfo memory) {
        Chain storage chain = _chains[chainId];
        require(chain.registered, UnknownChain(chainId));
        return ChainInfo(chainId, chain.caip2, InteroperableAddress.formatEvmV1(chainId), chain.enabled);
    }

    /// @notice The EVM chain id of a registered CAIP-2 id; reverts `UnknownCaip2` otherwise.
    function chainIdOfCaip2(string calldata caip2) external view returns (uint256 chainId) {
        chainId = _chainIdOfCaip2[keccak256(bytes(caip2))];
        require(chainId != 0, UnknownCaip2(caip2));
    }

    /// @notice The ERC-7930 interoperable address of `account` on a registered chain.
    function interoperableAddressOf(uint256 chainId, address account) external view returns (bytes memory) {
        require(_chains[chainId].registered, UnknownChain(chainId));
        return InteroperableAddress.formatEvmV1(chainId, account);
    }

    /// @dev Whether `caip2` equals OpenZeppelin's `CAIP2.format("eip155", chainId)`. Comparing to the canonical form
    ///      (rather than parsing, which `CAIP2.parse` does without validation) rejects other namespaces, leading
    ///      zeros, signs, spaces and a missing separator.
    function _isCanonicalCaip2(uint256 chainId, string calldata caip2) private pure returns (bool) {
        return keccak256(bytes(caip2)) == keccak256(bytes(CAIP2.format("eip155", chainId.toString())));
    }
}
