import { loadAndExecuteDeploymentsFromFiles } from "../../rocketh/environment.js";

/**
 * Runs the project's deploy scripts against `provider` (an in-process
 * network), with their progress lines kept off the benchmark's output.
 */
export async function deployQuietly(
  provider: NonNullable<Parameters<typeof loadAndExecuteDeploymentsFromFiles>[0]["provider"]>,
  environment?: string,
) {
  const { log, error } = console;
  console.log = () => undefined;
  // A named environment (a chain id other than 31337) is a private chain with no public record: rocketh says so.
  console.error = (...args: unknown[]) => {
    if (!/^chain with id \d+ has no public info$/.test(String(args[0]))) error(...args);
  };
  try {
    return await loadAndExecuteDeploymentsFromFiles(
      environment === undefined ? { provider } : { provider, environment, saveDeployments: false },
    );
  } finally {
    console.log = log;
    console.error = error;
  }
}
