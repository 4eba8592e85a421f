import { expect } from "chai";

import { intFromEnv, SettingError } from "../../src/chain/settings.js";

describe("chain: settings from the environment", function () {
  it("falls back when unset or empty, and reads a whole number in range", function () {
    expect(intFromEnv({}, "PORT", 8601, 0, 65_535)).to.equal(8601);
    expect(intFromEnv({ PORT: " " }, "PORT", 8601, 0, 65_535)).to.equal(8601);
    expect(intFromEnv({ PORT: "0" }, "PORT", 8601, 0, 65_535)).to.equal(0);
    expect(intFromEnv({ PORT: " 9000 " }, "PORT", 8601, 0, 65_535)).to.equal(9000);
  });

  it("refuses a value out of range or not a whole number, naming the variable and the value", function () {
    for (const raw of ["65536", "-1", "1.5", "80a", "1e3"]) {
      expect(() => intFromEnv({ PORT: raw }, "PORT", 8601, 0, 65_535))
        .to.throw(SettingError, `PORT must be a whole number from 0 to 65535, got "${raw}"`)
        .with.property("code", "SETTING_INVALID");
    }
  });
});
