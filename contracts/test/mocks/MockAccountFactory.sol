// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

/// @dev A minimal smart account for the certificate indexer's tests: its owner makes it call anything.
contract MockSmartAccount {
    address public owner;

    error MockSmartAccountNotOwner(address caller);
    error MockSmartAccountInitialized();
    error MockSmartAccountCallFailed(bytes reason);

    /// @dev Set once, by the factory, right after deployment: the init code stays the same for every owner.
    function initialize(address owner_) external {
        if (owner != address(0)) revert MockSmartAccountInitialized();
        owner = owner_;
    }

    function execute(address target, uint256 value, bytes calldata data) external returns (bytes memory result) {
        if (msg.sender != owner) revert MockSmartAccountNotOwner(msg.sender);
        bool ok;
        (ok, result) = target.call{value: value}(data);
        if (!ok) revert MockSmartAccountCallFailed(result);
    }

    receive() external payable {}
}

/// @dev A CREATE2 account factory with the salt rule the certificate indexer's profiles assume:
///      account `index` of `owner` is deployed with salt `keccak256(abi.encode(owner, index))` and the init code
///      `type(MockSmartAccount).creationCode`, whose hash is `INIT_CODE_HASH`.
contract MockAccountFactory {
    bytes32 public constant INIT_CODE_HASH = keccak256(type(MockSmartAccount).creationCode);

    event AccountCreated(address indexed owner, uint256 indexed index, address account);

    function createAccount(address owner, uint256 index) external returns (address account) {
        account = address(new MockSmartAccount{salt: saltOf(owner, index)}());
        MockSmartAccount(payable(account)).initialize(owner);
        emit AccountCreated(owner, index, account);
    }

    function accountOf(address owner, uint256 index) external view returns (address) {
        bytes32 digest = keccak256(abi.encodePacked(bytes1(0xff), address(this), saltOf(owner, index), INIT_CODE_HASH));
        return address(uint160(uint256(digest)));
    }

    function saltOf(address owner, uint256 index) public pure returns (bytes32) {
        return keccak256(abi.encode(owner, index));
    }
}
