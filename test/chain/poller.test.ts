import { expect } from "chai";

import { Poller } from "../../src/chain/poller.js";
import { mayRetry, retryDelay, withRetry, type RetryPolicy } from "../../src/chain/retry.js";

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

describe("chain/retry and chain/poller: the kit's retries and background loop", function () {
  const policy: RetryPolicy = { baseMs: 100, maxMs: 1_000, factor: 2, maxAttempts: 4 };

  it("grows the delay by the factor up to the cap, and counts attempts", function () {
    expect([1, 2, 3, 4, 5, 10].map((failures) => retryDelay(policy, failures))).to.deep.equal([
      100, 200, 400, 800, 1_000, 1_000,
    ]);
    expect(retryDelay({ baseMs: 1_000, maxMs: 1_000, factor: 1 }, 7)).to.equal(1_000);
    expect(retryDelay(policy, 0)).to.equal(0);
    expect([1, 3, 4].map((attempts) => mayRetry(policy, attempts))).to.deep.equal([true, true, false]);
    expect(mayRetry({ baseMs: 1, maxMs: 1, factor: 1 }, 1_000)).to.equal(true);
  });

  it("withRetry retries what may pass, up to the policy's attempts, and no other error", async function () {
    const slept: number[] = [];
    const fake = async (ms: number): Promise<void> => void slept.push(ms);
    let calls = 0;
    const value = await withRetry(
      policy,
      async (attempt) => {
        calls += 1;
        if (attempt < 3) throw new Error("transient");
        return attempt;
      },
      () => true,
      fake,
    );
    expect(value).to.equal(3);
    expect(slept).to.deep.equal([100, 200]);

    calls = 0;
    const always = await withRetry(
      policy,
      async () => ((calls += 1), Promise.reject(new Error("down"))),
      () => true,
      fake,
    ).catch((e: unknown) => e);
    expect((always as Error).message).to.equal("down");
    expect(calls).to.equal(4);

    calls = 0;
    const fatal = await withRetry(
      policy,
      async () => ((calls += 1), Promise.reject(new TypeError("bug"))),
      (error) => !(error instanceof TypeError),
      fake,
    ).catch((e: unknown) => e);
    expect(fatal).to.be.instanceOf(TypeError);
    expect(calls).to.equal(1);
  });

  it("Poller: a busy round is followed at once, an idle one waits, wake() cuts the wait, stop() waits for the round", async function () {
    const rounds: number[] = [];
    let busy = 3;
    let hold: Promise<void> | undefined;
    let release = (): void => undefined;
    let entered = (): void => undefined;
    const inRound = new Promise<void>((resolve) => (entered = resolve));
    const poller = new Poller({
      intervalMs: 60_000,
      tick: async () => {
        rounds.push(Date.now());
        if (hold !== undefined) {
          entered();
          await hold;
        }
        busy -= 1;
        return busy >= 0;
      },
    });
    poller.start();
    await sleep(100);
    expect(rounds.length, "three busy rounds and one idle one, then a long wait").to.equal(4);
    poller.wake();
    await sleep(50);
    expect(rounds.length).to.equal(5);
    hold = new Promise<void>((resolve) => (release = resolve));
    poller.wake();
    await inRound;
    let stopped = false;
    const stopping = poller.stop().then(() => (stopped = true));
    await sleep(20);
    expect(stopped, "stop() waits for the round under way").to.equal(false);
    release();
    await stopping;
    expect(poller.running).to.equal(false);
    const after = rounds.length;
    await sleep(50);
    expect(rounds.length).to.equal(after);
  });

  it("Poller: a failing round is reported and retried after the back-off; a fatal one stops the loop", async function () {
    const errors: Array<[string, number]> = [];
    let round = 0;
    const poller = new Poller({
      intervalMs: 60_000,
      retry: { baseMs: 20, maxMs: 20, factor: 1 },
      tick: async () => {
        round += 1;
        if (round <= 2) throw new Error(`flaky ${round}`);
        if (round === 3) return false;
        throw new RangeError("fatal");
      },
      onError: (error, failures) => errors.push([(error as Error).message, failures]),
      isFatal: (error) => error instanceof RangeError,
    });
    poller.start();
    await sleep(120);
    expect(errors).to.deep.equal([
      ["flaky 1", 1],
      ["flaky 2", 2],
    ]);
    expect(round).to.equal(3);
    poller.wake();
    await sleep(30);
    expect(errors.at(-1)).to.deep.equal(["fatal", 1]);
    expect(poller.running).to.equal(false);
    await poller.stop();
  });
});
