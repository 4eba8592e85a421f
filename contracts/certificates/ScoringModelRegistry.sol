// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

// solhint-disable-next-line max-line-length
import {AccessControlDefaultAdminRules} from "@openzeppelin/contracts/access/extensions/AccessControlDefaultAdminRules.sol";

import {IScoringModelRegistry} from "./interfaces/IScoringModelRegistry.sol";

/// @title ScoringModelRegistry
/// @notice The scoring models of the trust certificates, by id, version and content hash, each registered, then
///         activated, then retired.
/// @dev Roles:
///      - `DEFAULT_ADMIN_ROLE` (one holder, handed over in two steps after a delay): grants and revokes roles.
///      - `MODEL_ADMIN_ROLE`: registers, activates and retires models.
///
///      Retirement is final: a retired model cannot be activated again, so the certificates it invalidated stay
///      invalid. A corrected model is registered under a new id.
contract ScoringModelRegistry is IScoringModelRegistry, AccessControlDefaultAdminRules {
    /// @notice The role that registers, activates and retires models.
    bytes32 public constant MODEL_ADMIN_ROLE = keccak256("MODEL_ADMIN_ROLE");

    /// @dev The smallest level count: a model tells at least two levels apart.
    uint8 private constant _MIN_LEVELS = 2;

    mapping(bytes32 modelId => Model) private _models;

    /// @param initialAdmin The default admin.
    /// @param adminDelay The delay of a default admin handover.
    constructor(address initialAdmin, uint48 adminDelay) AccessControlDefaultAdminRules(adminDelay, initialAdmin) {}

    /// @inheritdoc IScoringModelRegistry
    function registerModel(
        bytes32 modelId,
        uint32 version,
        bytes32 contentHash,
        uint8 levels
    ) external onlyRole(MODEL_ADMIN_ROLE) {
        if (modelId == bytes32(0) || version == 0 || contentHash == bytes32(0) || levels < _MIN_LEVELS) {
            revert ScoringModelInvalid(modelId, version, contentHash, levels);
        }
        Model storage model = _models[modelId];
        _checkState(modelId, model.state, ModelState.None);
        _models[modelId] = Model({
            version: version,
            levels: levels,
            state: ModelState.Registered,
            contentHash: contentHash
        });
        emit ScoringModelRegistered(modelId, version, contentHash, levels);
    }

    /// @inheritdoc IScoringModelRegistry
    function activateModel(bytes32 modelId) external onlyRole(MODEL_ADMIN_ROLE) {
        Model storage model = _models[modelId];
        _checkState(modelId, model.state, ModelState.Registered);
        model.state = ModelState.Active;
        emit ScoringModelActivated(modelId);
    }

    /// @inheritdoc IScoringModelRegistry
    /// @dev From `Registered` or `Active`; a revert names `Active` as the state expected.
    function retireModel(bytes32 modelId) external onlyRole(MODEL_ADMIN_ROLE) {
        Model storage model = _models[modelId];
        if (model.state != ModelState.Registered) _checkState(modelId, model.state, ModelState.Active);
        model.state = ModelState.Retired;
        emit ScoringModelRetired(modelId);
    }

    /// @inheritdoc IScoringModelRegistry
    function stateOf(bytes32 modelId) external view returns (ModelState) {
        return _models[modelId].state;
    }

    /// @inheritdoc IScoringModelRegistry
    function isActive(bytes32 modelId) external view returns (bool) {
        return _models[modelId].state == ModelState.Active;
    }

    /// @inheritdoc IScoringModelRegistry
    function modelOf(bytes32 modelId) external view returns (Model memory) {
        return _models[modelId];
    }

    /// @dev Reverts `ScoringModelInvalidTransition` unless `current` is `expected`.
    function _checkState(bytes32 modelId, ModelState current, ModelState expected) private pure {
        if (current != expected) revert ScoringModelInvalidTransition(modelId, current, expected);
    }
}
