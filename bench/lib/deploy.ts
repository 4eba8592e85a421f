import { loadAndExecuteDeploymentsFromFiles } from "../../rocketh/environment.js";

/**
 * Runs the project's deploy scripts against `provider` (an in-process
 * network), with their progress lines kept off the benchmark's output.
 */
export async function deployQuietly(
  provider: NonNullable<Parameters<typeof loadAndExecuteDeploymentsFromFiles>[0]["provider"]>,
) {
  const { log } = console;
  console.log = () => undefined;
  try {
    return await loadAndExecuteDeploymentsFromFiles({ provider });
  } finally {
    console.log = log;
  }
}
