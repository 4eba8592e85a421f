import { expect } from "chai";

import { Step, withStep, type ProgressStream } from "../../src/chain/progress.js";

/** A stream that records what is written, a terminal or not, and resolves `next` on the next write. */
class FakeStream implements ProgressStream {
  readonly writes: string[] = [];
  #waiting: (() => void) | undefined;
  constructor(readonly isTTY: boolean) {}
  write(text: string): boolean {
    this.writes.push(text);
    this.#waiting?.();
    this.#waiting = undefined;
    return true;
  }
  next(): Promise<void> {
    return new Promise((resolve) => (this.#waiting = resolve));
  }
  get text(): string {
    return this.writes.join("");
  }
}

/** A clock the test moves. */
function clock(start = 1_000_000): { now: () => number; advance: (ms: number) => void } {
  let at = start;
  return { now: () => at, advance: (ms) => void (at += ms) };
}

const CLEAR = "\r\x1b[2K";

describe("chain/progress: steps of long commands", function () {
  it("prints npm start's plain lines when the stream is not a terminal: begin, heartbeat, lines, counts, done", async function () {
    const stream = new FakeStream(false);
    const time = clock();
    const step = new Step("building contracts", {
      stream,
      prefix: "[start] ",
      heartbeatMs: 5,
      every: 50,
      now: time.now,
    });
    time.advance(15_400);
    await stream.next();
    step.line("  Compiled 3 Solidity files");
    step.tick(49, 120);
    step.tick(50, 120);
    step.tick(99, 120);
    step.tick(120, 120);
    time.advance(1_840);
    expect(step.done()).to.be.closeTo(17.24, 1e-9);
    const lines = stream.text.split("\n");
    expect(lines.at(-1)).to.equal("");
    expect(lines.slice(0, 2)).to.deep.equal([
      "[start] building contracts…",
      "[start]   still building contracts (15 s)",
    ]);
    // Heartbeats keep coming while the test runs; everything else is in order.
    expect(lines.filter((line) => !line.includes("still"))).to.deep.equal([
      "[start] building contracts…",
      "[start]   Compiled 3 Solidity files",
      "[start]   building contracts: 50/120",
      "[start]   building contracts: 120/120",
      "[start] building contracts: done in 17.2 s",
      "",
    ]);
    expect(stream.text).to.not.include("\r");
    const count = stream.writes.length;
    await new Promise((resolve) => setTimeout(resolve, 30));
    expect(stream.writes.length, "no heartbeat after done").to.equal(count);
  });

  it("on a terminal, redraws one spinner line with the step, count and seconds, and ends it with the done line", async function () {
    const stream = new FakeStream(true);
    const time = clock();
    const step = new Step("deploying the suite", { stream, prefix: "[start] ", frameMs: 5, now: time.now });
    expect(stream.writes[0]).to.equal(`${CLEAR}[start] ⠋ deploying the suite (0 s)`);
    time.advance(3_200);
    await stream.next();
    expect(stream.writes[1]).to.equal(`${CLEAR}[start] ⠙ deploying the suite (3 s)`);
    step.tick(7, 10);
    expect(stream.writes.at(-1)).to.match(/^\r\x1b\[2K\[start\] . deploying the suite 7\/10 \(3 s\)$/);
    step.line("  linked");
    expect(stream.writes.at(-2)).to.equal(`${CLEAR}[start]   linked\n`);
    expect(stream.writes.at(-1)).to.match(/deploying the suite 7\/10 \(3 s\)$/);
    time.advance(1_000);
    step.done();
    expect(stream.writes.at(-1)).to.equal(`${CLEAR}[start] deploying the suite: done in 4.2 s\n`);
    expect(stream.text).to.not.include("still");
    const count = stream.writes.length;
    await new Promise((resolve) => setTimeout(resolve, 30));
    expect(stream.writes.length, "no frame after done").to.equal(count);
  });

  it("withStep: done on success, the error again and no done line on failure (the spinner erased)", async function () {
    const plain = new FakeStream(false);
    expect(await withStep("adding", async () => 1 + 1, { stream: plain })).to.equal(2);
    expect(plain.writes[0]).to.equal("adding…\n");
    expect(plain.writes.at(-1)).to.match(/^adding: done in \d+\.\d s\n$/);

    const tty = new FakeStream(true);
    let caught: unknown;
    try {
      await withStep(
        "failing",
        async () => {
          throw new Error("no");
        },
        { stream: tty },
      );
    } catch (error) {
      caught = error;
    }
    expect((caught as Error).message).to.equal("no");
    expect(tty.writes.at(-1)).to.equal(CLEAR);
    expect(tty.text).to.not.include("done");
  });
});
