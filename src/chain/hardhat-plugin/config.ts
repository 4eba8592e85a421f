/**
 * One change to the resolved Solidity settings: metadata that names each source by its hash instead of embedding its
 * text (`metadata.useLiteralContent` off).
 *
 * hardhat-deploy turns `useLiteralContent` on for every compiler, so every contract's metadata carries the full text
 * of every source it imports. Hardhat 3 compiles the contracts and the Solidity tests in one solc job, and by issue 17
 * that job's output held about 100 MB of such metadata (two thirds of it): the WebAssembly solc, the only compiler we
 * can use here, then failed with "Error writing output JSON." on every build from a clean clone. With hashes instead
 * of texts the job's output is a fraction of that. Nothing here reads sources from metadata: verification takes them
 * from Hardhat's build info, which keeps them.
 */
import type { ConfigHooks } from "hardhat/types/hooks";

export default async (): Promise<Partial<ConfigHooks>> => ({
  resolveUserConfig: async (userConfig, resolveConfigurationVariable, next) => {
    const resolved = await next(userConfig, resolveConfigurationVariable);
    for (const profile of Object.values(resolved.solidity.profiles)) {
      for (const compiler of [...profile.compilers, ...Object.values(profile.overrides)]) {
        const settings = compiler.settings as { metadata?: { useLiteralContent?: boolean } };
        if (settings.metadata !== undefined) settings.metadata.useLiteralContent = false;
      }
    }
    return resolved;
  },
});
