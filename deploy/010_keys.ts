/**
 * Secret-shared wallet keys (issue 19): the ShareRegistry, which keeps each wallet's holders, threshold, epoch and
 * share commitments. It is permissionless (each wallet has its own owner, set by its creator) and has no
 * constructor arguments and no roles: nothing to grant, nothing for deploy/099_roles.ts to check.
 *
 * A re-run keeps the deployed registry (the same bytecode and no arguments), and so every wallet recorded in it.
 */
import { artifacts, deployScript } from "../rocketh/deploy.js";
import { keepDeployed } from "./_ethers.js";

export default deployScript(
  async (env) => {
    const { deploy, namedAccounts: accounts } = env;
    await deploy(
      "ShareRegistry",
      { account: accounts.deployer, artifact: artifacts.ShareRegistry, args: [] },
      keepDeployed(env),
    );
  },
  { tags: ["keys"] },
);
