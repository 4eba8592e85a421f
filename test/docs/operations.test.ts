import { readFileSync } from "node:fs";

import { expect } from "chai";

import { PAGE, withTable } from "../../scripts/operations-docs.js";

describe("docs/operations.md", function () {
  it("has the configuration table the services' settings schemas give (npm run docs:operations)", async function () {
    const page = readFileSync(PAGE, "utf8");
    expect(page, "run npm run docs:operations").to.equal(await withTable(page));
    expect(page).to.include("`CARD_GATEWAY_PORT`");
  });
});
