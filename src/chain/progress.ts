/**
 * Progress of a long command's steps (build, deploy, a benchmark's loop),
 * without dependencies.
 *
 * On a terminal (`stream.isTTY`): one line redrawn in place, a spinner, the
 * step, its count and its elapsed seconds; other lines printed meanwhile go
 * above it. Anywhere else (a pipe, a CI log, a test reading stderr): plain
 * lines, exactly what `npm start` has always printed:
 *
 *     <prefix><step>…
 *     <prefix>  still <step> (15 s)          every 15 s
 *     <prefix>  <step>: 40/200               every `every` items counted
 *     <prefix><step>: done in 3.2 s
 */

/** Where progress goes: stderr, or a test's stand-in. */
export interface ProgressStream {
  write(text: string): unknown;
  readonly isTTY?: boolean;
}

export interface ProgressOptions {
  /** Default process.stderr. */
  readonly stream?: ProgressStream;
  /** Put before every line, e.g. `[start] `. */
  readonly prefix?: string;
  /** Plain mode: how often a `still <step>` line is printed; default 15 s. */
  readonly heartbeatMs?: number;
  /** Terminal mode: how often the spinner is redrawn; default 100 ms. */
  readonly frameMs?: number;
  /** Plain mode: a count line every this many items (`Step.tick`); default 1 (every tick). */
  readonly every?: number;
  /** Milliseconds; default Date.now. */
  readonly now?: () => number;
}

const FRAMES = ["⠋", "⠙", "⠹", "⠸", "⠼", "⠴", "⠦", "⠧", "⠇", "⠏"];
const CLEAR = "\r\x1b[2K";

/** One step under way: print lines beside it, count its items, then end it with `done` or `fail`. */
export class Step {
  readonly name: string;
  readonly #stream: ProgressStream;
  readonly #prefix: string;
  readonly #tty: boolean;
  readonly #every: number;
  readonly #now: () => number;
  readonly #started: number;
  readonly #timer: NodeJS.Timeout;
  #frame = 0;
  #count = "";
  #lastCounted = 0;
  #ended = false;

  constructor(name: string, options: ProgressOptions = {}) {
    this.name = name;
    this.#stream = options.stream ?? process.stderr;
    this.#prefix = options.prefix ?? "";
    this.#tty = this.#stream.isTTY === true;
    this.#every = Math.max(1, Math.floor(options.every ?? 1));
    this.#now = options.now ?? Date.now;
    this.#started = this.#now();
    if (this.#tty) {
      this.#draw();
      this.#timer = setInterval(() => {
        this.#frame = (this.#frame + 1) % FRAMES.length;
        this.#draw();
      }, options.frameMs ?? 100);
    } else {
      this.#stream.write(`${this.#prefix}${name}…\n`);
      this.#timer = setInterval(
        () => this.#stream.write(`${this.#prefix}  still ${name} (${Math.round(this.elapsedSeconds)} s)\n`),
        options.heartbeatMs ?? 15_000,
      );
    }
    // Progress never keeps a process alive.
    this.#timer.unref();
  }

  /** Seconds since the step began. */
  get elapsedSeconds(): number {
    return (this.#now() - this.#started) / 1000;
  }

  /** Prints `text` as a line of its own (prefixed), above the spinner on a terminal. */
  line(text: string): void {
    if (this.#ended || !this.#tty) {
      this.#stream.write(`${this.#prefix}${text}\n`);
      return;
    }
    this.#stream.write(`${CLEAR}${this.#prefix}${text}\n`);
    this.#draw();
  }

  /**
   * `done` of `total` items finished: on a terminal the spinner shows `done/total`; otherwise a line
   * `  <step>: done/total` once `every` more items are done than at the last line, and at the total.
   */
  tick(done: number, total?: number): void {
    if (this.#ended) return;
    this.#count = total === undefined ? `${done}` : `${done}/${total}`;
    if (this.#tty) {
      this.#draw();
    } else if (
      done - this.#lastCounted >= this.#every ||
      (total !== undefined && done >= total && done > this.#lastCounted)
    ) {
      this.#lastCounted = done;
      this.#stream.write(`${this.#prefix}  ${this.name}: ${this.#count}\n`);
    }
  }

  /** Ends the step with `<step>: done in X s`; returns the seconds it took. */
  done(): number {
    const seconds = this.#end();
    this.#stream.write(`${this.#tty ? CLEAR : ""}${this.#prefix}${this.name}: done in ${seconds.toFixed(1)} s\n`);
    return seconds;
  }

  /** Ends the step without a done line (the caller reports the failure); on a terminal the spinner is erased. */
  fail(): void {
    this.#end();
    if (this.#tty) this.#stream.write(CLEAR);
  }

  #end(): number {
    if (!this.#ended) {
      this.#ended = true;
      clearInterval(this.#timer);
    }
    return this.elapsedSeconds;
  }

  #draw(): void {
    const count = this.#count === "" ? "" : ` ${this.#count}`;
    this.#stream.write(
      `${CLEAR}${this.#prefix}${FRAMES[this.#frame]} ${this.name}${count} (${Math.floor(this.elapsedSeconds)} s)`,
    );
  }
}

/** Runs `work` as a step: `done` when it resolves, `fail` (then the error again) when it throws. */
export async function withStep<T>(
  name: string,
  work: (step: Step) => Promise<T>,
  options?: ProgressOptions,
): Promise<T> {
  const step = new Step(name, options);
  try {
    const result = await work(step);
    step.done();
    return result;
  } catch (error) {
    step.fail();
    throw error;
  }
}
