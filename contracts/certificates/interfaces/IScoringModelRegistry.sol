// SPDX-License-Identifier: MIT
pragma solidity ^0.8.30;

/// @title IScoringModelRegistry
/// @notice The scoring models a trust certificate may be issued under. A model is published off chain as data
///         (feature weights, caps, thresholds, levels); the registry holds its id, version, the hash of its content
///         and its state, so anyone can check that a certificate's model is the one published and still in force.
///         Life cycle: `Registered` -> `Active` -> `Retired` (or `Registered` -> `Retired`); `Retired` is final.
interface IScoringModelRegistry {
    /// @notice A model's state. `None`: never registered.
    enum ModelState {
        None,
        Registered,
        Active,
        Retired
    }

    /// @notice A registered model as the views return it.
    /// @param version The model's version (informational, non-zero).
    /// @param contentHash The hash of the model's published content (non-zero).
    /// @param levels How many levels the model assigns (levels `0 .. levels - 1`, at least 2).
    /// @param state The model's state.
    struct Model {
        uint32 version;
        uint8 levels;
        ModelState state;
        bytes32 contentHash;
    }

    /// @notice A model was registered (inactive).
    event ScoringModelRegistered(bytes32 indexed modelId, uint32 version, bytes32 contentHash, uint8 levels);
    /// @notice A model was activated: certificates may be issued under it.
    event ScoringModelActivated(bytes32 indexed modelId);
    /// @notice A model was retired: no new certificates, and those issued under it are no longer valid.
    event ScoringModelRetired(bytes32 indexed modelId);

    /// @notice The model id, version or content hash is zero, or the level count is below 2.
    error ScoringModelInvalid(bytes32 modelId, uint32 version, bytes32 contentHash, uint8 levels);
    /// @notice The operation needs the model in state `expected`; it is in `current`.
    error ScoringModelInvalidTransition(bytes32 modelId, ModelState current, ModelState expected);

    /// @notice Registers a model, inactive.
    /// @param modelId The model's id (non-zero, never reused).
    /// @param version Its version (non-zero).
    /// @param contentHash The hash of its published content (non-zero).
    /// @param levels How many levels it assigns (at least 2).
    function registerModel(bytes32 modelId, uint32 version, bytes32 contentHash, uint8 levels) external;

    /// @notice Activates a registered model.
    /// @param modelId The model's id.
    function activateModel(bytes32 modelId) external;

    /// @notice Retires a registered or active model, for good.
    /// @param modelId The model's id.
    function retireModel(bytes32 modelId) external;

    /// @notice A model's state (`None` if never registered).
    /// @param modelId The model's id.
    /// @return The state.
    function stateOf(bytes32 modelId) external view returns (ModelState);

    /// @notice Whether certificates may be issued, and are valid, under the model.
    /// @param modelId The model's id.
    /// @return Whether the model is `Active`.
    function isActive(bytes32 modelId) external view returns (bool);

    /// @notice A model.
    /// @param modelId The model's id.
    /// @return The model (all zero, state `None`, if never registered).
    function modelOf(bytes32 modelId) external view returns (Model memory);
}
