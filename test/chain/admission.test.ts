import { expect } from "chai";

import { AdmissionBusyError, AdmissionGate } from "../../src/chain/admission.js";

/** A gate over a counter the test moves itself (the items recorded as open). */
function gate(limit: number, waitMs = 1_000) {
  const state = { open: 0 };
  return { state, gate: new AdmissionGate({ limit, waitMs, open: () => state.open }) };
}

/** Whether `enter()` let the request in (resolved) after the pending callbacks have run; false if it waits or was refused. */
async function admitted(promise: Promise<unknown>): Promise<boolean> {
  let ok = false;
  void promise.then(
    () => (ok = true),
    () => undefined,
  );
  await new Promise((resolve) => setImmediate(resolve));
  return ok;
}

/** Whether `promise` has settled after the pending callbacks have run. */
async function settled(promise: Promise<unknown>): Promise<boolean> {
  let done = false;
  void promise.then(
    () => (done = true),
    () => (done = true),
  );
  await new Promise((resolve) => setImmediate(resolve));
  return done;
}

describe("chain: admission gate", function () {
  it("admits up to the limit at once, counting those being admitted; the next waits for room", async function () {
    const { state, gate: g } = gate(2);
    const first = await g.enter();
    await g.enter();
    const third = g.enter();
    expect(await settled(third)).to.equal(false);
    expect(g.waiting).to.equal(1);
    // The first is recorded as open: still no room.
    state.open = 1;
    first();
    expect(await settled(third)).to.equal(false);
    // It closes: room for one.
    state.open = 0;
    g.recheck();
    expect(await settled(third)).to.equal(true);
    expect(g.waiting).to.equal(0);
  });

  it("lets waiting requests in oldest first, one per free place", async function () {
    const { state, gate: g } = gate(1);
    state.open = 1;
    const order: number[] = [];
    const waits = [1, 2, 3].map((n) => g.enter().then((leave) => (order.push(n), leave)));
    state.open = 0;
    g.recheck();
    const leaveFirst = await waits[0]!;
    expect(order).to.deep.equal([1]);
    // Still being admitted (not left yet): no room for the second.
    g.recheck();
    expect(await settled(waits[1]!)).to.equal(false);
    leaveFirst();
    const leaveSecond = await waits[1]!;
    leaveSecond();
    await waits[2]!;
    expect(order).to.deep.equal([1, 2, 3]);
  });

  it("refuses with ADMISSION_BUSY after the wait, and the refused request takes no room", async function () {
    const { state, gate: g } = gate(1, 30);
    state.open = 1;
    const error = await g.enter().then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).to.be.instanceOf(AdmissionBusyError);
    expect((error as AdmissionBusyError).code).to.equal("ADMISSION_BUSY");
    expect((error as AdmissionBusyError).details).to.deep.equal({ limit: 1, waitMs: 30 });
    expect(g.waiting).to.equal(0);
    state.open = 0;
    // Had the refused one kept a place, this would wait.
    expect(await settled(g.enter())).to.equal(true);
  });

  it("a second leave() changes nothing", async function () {
    const { gate: g } = gate(1);
    const leave = await g.enter();
    leave();
    leave();
    await g.enter();
    expect(await settled(g.enter())).to.equal(false);
  });

  it("close() refuses the waiting and the later requests with ADMISSION_CLOSED; reopen() admits again", async function () {
    const { state, gate: g } = gate(1);
    state.open = 1;
    const waiting = g.enter().catch((e: unknown) => e);
    g.close("stopping");
    const error = (await waiting) as AdmissionBusyError;
    expect(error.code).to.equal("ADMISSION_CLOSED");
    expect(error.message).to.equal("stopping");
    expect(((await g.enter().catch((e: unknown) => e)) as AdmissionBusyError).code).to.equal("ADMISSION_CLOSED");
    g.reopen();
    state.open = 0;
    expect(await admitted(g.enter())).to.equal(true);
    // The refused waiter took no place: the limit of one holds.
    expect(await settled(g.enter())).to.equal(false);
  });

  it("one let in just before close() gives its place back", async function () {
    const { state, gate: g } = gate(1);
    state.open = 1;
    const waiting = g.enter().catch((e: unknown) => e);
    state.open = 0;
    g.recheck(); // admitted, but the waiter has not run yet
    g.close("stopping");
    expect(((await waiting) as AdmissionBusyError).code).to.equal("ADMISSION_CLOSED");
    g.reopen();
    expect(await admitted(g.enter())).to.equal(true);
    expect(await settled(g.enter())).to.equal(false);
  });

  it("a newcomer does not pass a request already waiting, even when room appears before the recheck", async function () {
    const { state, gate: g } = gate(1);
    state.open = 1;
    const first = g.enter();
    state.open = 0; // room, not yet rechecked
    const second = g.enter();
    expect(await settled(second)).to.equal(false);
    g.recheck();
    expect(await admitted(first)).to.equal(true);
    expect(await settled(second)).to.equal(false);
  });

  it("more room than requests waiting: all let in, nothing more", async function () {
    const { state, gate: g } = gate(3);
    state.open = 3;
    const waiting = g.enter();
    state.open = 0;
    expect(() => g.recheck()).to.not.throw();
    expect(await admitted(waiting)).to.equal(true);
    expect(g.waiting).to.equal(0);
  });

  it("refuses a limit below 1 or not whole, and a negative wait", function () {
    const refusal = (make: () => unknown) => {
      try {
        make();
      } catch (error) {
        return { code: (error as AdmissionBusyError).code, details: (error as AdmissionBusyError).details };
      }
      return undefined;
    };
    for (const limit of [0, -1, 1.5, Number.NaN]) {
      expect(refusal(() => new AdmissionGate({ limit, waitMs: 1, open: () => 0 }))).to.deep.equal({
        code: "ADMISSION_BAD_LIMIT",
        details: { limit },
      });
    }
    expect(() => new AdmissionGate({ limit: 1, waitMs: -1, open: () => 0 }))
      .to.throw()
      .with.property("code", "ADMISSION_BAD_WAIT");
    expect(() => new AdmissionGate({ limit: 1, waitMs: Number.POSITIVE_INFINITY, open: () => 0 }))
      .to.throw()
      .with.property("details")
      .that.deep.equals({ waitMs: Number.POSITIVE_INFINITY });
    // A wait of 0: refused at once when there is no room, but a valid setting.
    expect(new AdmissionGate({ limit: 1, waitMs: 0, open: () => 0 }).waiting).to.equal(0);
  });
});
