import { createServer, type Server } from "node:http";

import { expect } from "chai";

import { fromRecords } from "../../src/chain/deployments.js";
import {
  ServiceError,
  ServiceRunner,
  type Service,
  type ServiceContext,
  type ServiceFactory,
} from "../../src/chain/service.js";
import type { ChainConnection } from "../../src/chain/config.js";
import { createLogger, loggerOf } from "../../src/chain/log.js";

/** A real HTTP service on 127.0.0.1, as later parts write them. */
class HttpService implements Service {
  readonly name: string;
  #server: Server | undefined;
  #port = 0;
  constructor(
    name: string,
    private readonly events: string[],
    private readonly failStart = false,
  ) {
    this.name = name;
  }
  get url(): string {
    return `http://127.0.0.1:${this.#port}`;
  }
  async start(): Promise<void> {
    if (this.failStart) throw new Error("port in use");
    this.#server = createServer((_req, res) => res.end(this.name));
    await new Promise<void>((resolve) => this.#server!.listen(0, "127.0.0.1", resolve));
    const address = this.#server.address();
    this.#port = typeof address === "object" && address !== null ? address.port : 0;
    this.events.push(`start ${this.name}`);
  }
  async stop(): Promise<void> {
    await new Promise<void>((resolve, reject) => this.#server!.close((e) => (e ? reject(e) : resolve())));
    this.events.push(`stop ${this.name}`);
  }
}

function context(lines: string[]): ServiceContext {
  return {
    chain: {} as ChainConnection,
    deployments: fromRecords("hardhat", 31337n, new Map()),
    dataDir: "/nonexistent",
    log: (line) => lines.push(line),
  };
}

const factory = (name: string, events: string[], failStart = false): ServiceFactory => ({
  name,
  create: () => new HttpService(name, events, failStart),
});

describe("chain: service runner", function () {
  it("starts services in order, serves them, and stops them in reverse", async function () {
    const events: string[] = [];
    const runner = new ServiceRunner([factory("a", events), factory("b", events)], context([]));
    const running = await runner.startAll();
    expect(running.map((s) => s.name)).to.deep.equal(["a", "b"]);
    const reply = await fetch(running[1]!.url!);
    expect(await reply.text()).to.equal("b");
    await runner.stopAll();
    expect(events).to.deep.equal(["start a", "start b", "stop b", "stop a"]);
    expect(runner.running).to.deep.equal([]);
  });

  it("stops what it started when a later service fails, and names the one that failed", async function () {
    const events: string[] = [];
    const runner = new ServiceRunner([factory("a", events), factory("broken", events, true)], context([]));
    let caught: unknown;
    try {
      await runner.startAll();
    } catch (error) {
      caught = error;
    }
    expect(caught).to.be.instanceOf(ServiceError);
    expect((caught as ServiceError).code).to.equal("SERVICE_START_FAILED");
    expect((caught as ServiceError).message).to.equal("service broken failed to start: port in use");
    expect(events).to.deep.equal(["start a", "stop a"]);
  });

  it("refuses two services with one name", function () {
    const events: string[] = [];
    expect(() => new ServiceRunner([factory("a", events), factory("a", events)], context([])))
      .to.throw(ServiceError)
      .with.property("code", "SERVICE_DUPLICATE");
  });

  it("gives each service a child logger named after it, and a log(line) that writes through it", async function () {
    const written: string[] = [];
    const runnerLines: string[] = [];
    const logger = createLogger({ destination: { write: (line: string) => void written.push(line) } });
    const seen: ServiceContext[] = [];
    const logging = (name: string): ServiceFactory => ({
      name,
      create: (ctx) => {
        seen.push(ctx);
        ctx.log(`${name} says hello`);
        loggerOf(ctx.log).child({ paymentId: "P-1" }).warn("late");
        return { name, start: async () => undefined, stop: async () => undefined };
      },
    });
    const runner = new ServiceRunner([logging("bank-a"), logging("bank-b")], {
      ...context(runnerLines),
      logger,
    });
    await runner.startAll();
    await runner.stopAll();
    const lines = written.map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(lines.map(({ service, level, msg, paymentId }) => ({ service, level, msg, paymentId }))).to.deep.equal([
      { service: "bank-a", level: "info", msg: "bank-a says hello", paymentId: undefined },
      { service: "bank-a", level: "warn", msg: "late", paymentId: "P-1" },
      { service: "bank-b", level: "info", msg: "bank-b says hello", paymentId: undefined },
      { service: "bank-b", level: "warn", msg: "late", paymentId: "P-1" },
    ]);
    // One `service` key a line, not the parent's and the child's.
    for (const line of written) expect(line.match(/"service":/g)).to.have.length(1);
    // The runner's own lines stay on the context's log.
    expect(runnerLines).to.deep.equal([
      "service bank-a started",
      "service bank-b started",
      "service bank-b stopped",
      "service bank-a stopped",
    ]);
    expect(seen[0]!.dataDir).to.equal("/nonexistent");
  });

  it("leaves a context without a logger as it is: a part's loggerOf(log) reaches the plain log", async function () {
    const lines: string[] = [];
    const plain = context(lines);
    let given: ServiceContext | undefined;
    const runner = new ServiceRunner(
      [
        {
          name: "quiet",
          create: (ctx) => {
            given = ctx;
            loggerOf(ctx.log).child({ intentId: "I-9" }).info("intent I-9 paid");
            return { name: "quiet", start: async () => undefined, stop: async () => undefined };
          },
        },
      ],
      plain,
    );
    await runner.startAll();
    await runner.stopAll();
    expect(given).to.equal(plain);
    expect(lines).to.deep.equal(["intent I-9 paid", "service quiet started", "service quiet stopped"]);
  });
});
