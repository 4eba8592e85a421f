import { setupEnvironmentFromFiles } from "@rocketh/node";
import { setupHardhatDeploy } from "hardhat-deploy/helpers";

import { extensions, type Accounts, type Data, type Extensions } from "./config.js";

/** Runs the deploy scripts against a provider (tests use the in-process chain). */
export const { loadAndExecuteDeploymentsFromFiles } = setupEnvironmentFromFiles<Extensions, Accounts, Data>(extensions);
export const { loadEnvironmentFromHardhat } = setupHardhatDeploy<Extensions, Accounts, Data>(extensions);
