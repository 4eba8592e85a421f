/**
 * Bills: the BillRegistry, paid in the USD BankToken, with the two shipped
 * definitions (bill of exchange, e-invoice) registered as data. A definition
 * never changes once registered; a changed one is registered as a new version.
 */
import { decodeBytes32String } from "ethers";

import { BankToken__factory, BillRegistry__factory } from "../typechain-types/index.js";
import { artifacts, deployScript } from "../rocketh/deploy.js";
import { BILL_DEFINITIONS } from "./_bills.js";
import { adminDelay } from "./_config.js";
import { ensure, ethersFor, grantPlanned, keepDeployed } from "./_ethers.js";

export default deployScript(
  async (env) => {
    const { deploy, namedAccounts: accounts } = env;
    const chainId = env.network.chain.id;
    const { signer } = ethersFor(env);
    const token = BankToken__factory.connect(env.get("BankToken").address, await signer(accounts.schemeAdmin));

    const deployed = await deploy(
      "BillRegistry",
      {
        account: accounts.deployer,
        artifact: artifacts.BillRegistry,
        args: [accounts.admin, adminDelay(chainId), token.target as `0x${string}`],
      },
      keepDeployed(env),
    );
    await grantPlanned(env, "BillRegistry");
    const registry = BillRegistry__factory.connect(deployed.address, await signer(accounts.schemeAdmin));
    for (const d of BILL_DEFINITIONS) {
      await ensure(
        `BillRegistry: definition ${decodeBytes32String(d.name)} v${d.version} registered`,
        async () => (await registry.definitionId(d.name, d.version)) !== 0n,
        () =>
          registry.registerDefinition(
            d.name,
            d.version,
            [...d.states],
            d.transitions.map((t) => ({ ...t })),
          ),
      );
    }
  },
  { tags: ["bills"], dependencies: ["money"] },
);
