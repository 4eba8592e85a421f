import { existsSync } from "node:fs";

import { expect } from "chai";

interface MutationConfig {
  readonly mutate: readonly string[];
  readonly mochaOptions: { readonly spec: readonly string[] };
}

/**
 * `stryker.config.mjs` finds the ranges it mutates by the lines they start and end at; an edit that renames one
 * of those lines would break the next mutation run (not part of CI: it takes long). Loading the config here, every
 * group at once, fails on such an edit at once.
 */
describe("docs: the mutation-testing config (stryker.config.mjs) still finds every range and test", function () {
  it("loads with every group: each range's file and each test file exist", async function () {
    const saved = process.env.STRYKER_GROUP;
    delete process.env.STRYKER_GROUP;
    try {
      const url = new URL(`../../stryker.config.mjs?all=${Date.now()}`, import.meta.url).href;
      const config = ((await import(url)) as { default: MutationConfig }).default;
      expect(config.mutate.length).to.be.greaterThan(40);
      for (const entry of config.mutate) {
        const [file, range] = entry.split(":");
        expect(existsSync(file!), entry).to.equal(true);
        if (range !== undefined) expect(range, entry).to.match(/^\d+-\d+$/);
      }
      for (const spec of config.mochaOptions.spec) expect(existsSync(spec), spec).to.equal(true);
    } finally {
      if (saved !== undefined) process.env.STRYKER_GROUP = saved;
    }
  });
});
