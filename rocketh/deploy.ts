import { setupDeployScripts } from "rocketh";

import * as artifacts from "../generated/artifacts/index.js";
import { extensions, type Accounts, type Data, type Extensions } from "./config.js";

export { artifacts };

export const { deployScript } = setupDeployScripts<Extensions, Accounts, Data>(extensions);
