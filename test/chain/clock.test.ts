import { expect } from "chai";

import { isoAt, isoNow } from "../../src/chain/clock.js";

describe("chain/clock: ISO timestamps", function () {
  it("gives toISOString's answer for each time, the same one asked again and a new one for the next", function () {
    const times = [0, Date.UTC(2026, 11, 6, 23, 59, 59, 999), Date.UTC(2026, 11, 7), Date.UTC(2026, 11, 7), 1, -1];
    for (const ms of times) expect(isoAt(ms), String(ms)).to.equal(new Date(ms).toISOString());
    let now = Date.UTC(2030, 0, 1, 12, 0, 0, 5);
    const clock = { now: () => now };
    expect(isoNow(clock)).to.equal("2030-01-01T12:00:00.005Z");
    expect(isoNow(clock)).to.equal("2030-01-01T12:00:00.005Z");
    now += 1;
    expect(isoNow(clock)).to.equal("2030-01-01T12:00:00.006Z");
  });

  it("refuses a time that is no date, every time, and answers the last good one after", function () {
    expect(isoAt(5)).to.equal("1970-01-01T00:00:00.005Z");
    for (const bad of [Number.NaN, Number.NaN, 8.64e15 + 1]) expect(() => isoAt(bad)).to.throw(RangeError);
    expect(isoAt(5)).to.equal("1970-01-01T00:00:00.005Z");
  });
});
