import { expect } from "chai";

import { intFromEnv, SettingError, settingsSchema, text } from "../../src/chain/settings.js";

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

  it("reads a text setting: the devnet's published default, required elsewhere, never echoing a bad value", function () {
    const schema = settingsSchema("svc", {
      SECRET: text("a key", "64 hex digits", /^[0-9a-f]{64}$/, "ab".repeat(32), { required: true }),
      OPTIONAL: text("a list", "digits", /^[0-9]+$/, "", { required: false }),
    });
    expect(schema.read({}, { devnet: true })).to.deep.equal({ SECRET: "ab".repeat(32), OPTIONAL: "" });
    expect(schema.read({ SECRET: "cd".repeat(32) }, { devnet: false })).to.deep.equal({
      SECRET: "cd".repeat(32),
      OPTIONAL: "",
    });
    expect(() => schema.read({}, { devnet: false }))
      .to.throw(SettingError, "SECRET must be set on this network (64 hex digits)")
      .with.property("code", "SETTING_REQUIRED");
    const leaked = "s3cr3t-value-that-must-not-print";
    let error: unknown;
    try {
      schema.read({ SECRET: leaked }, { devnet: true });
    } catch (caught) {
      error = caught;
    }
    expect(error).to.be.instanceOf(SettingError).with.property("code", "SETTING_INVALID");
    expect((error as SettingError).message).to.equal(
      `SECRET must be 64 hex digits, got a value of ${leaked.length} characters`,
    );
    expect(JSON.stringify((error as SettingError).details)).to.not.include(leaked);
  });
});
