import { expect } from "chai";

import { createLogger, lineLog, LogConfigError, loggerOf } from "../../src/chain/log.js";

function capture(): { lines: string[]; destination: { write(line: string): void } } {
  const lines: string[] = [];
  return { lines, destination: { write: (line: string) => void lines.push(line) } };
}

describe("chain/log: structured service logs", function () {
  it("writes one JSON object a line: level name, ISO time, service, msg and the child's fields; no pid or host", function () {
    const { lines, destination } = capture();
    const logger = createLogger({ service: "gateway", destination, env: {} });
    logger.child({ journalId: 7, stan: "000123" }).info("0200 approved");
    logger.debug("not at info");
    expect(lines).to.have.length(1);
    expect(lines[0]!.endsWith("}\n")).to.equal(true);
    const line = JSON.parse(lines[0]!) as Record<string, unknown>;
    expect(Object.keys(line).sort()).to.deep.equal(["journalId", "level", "msg", "service", "stan", "time"]);
    expect(line).to.include({ level: "info", service: "gateway", msg: "0200 approved", journalId: 7, stan: "000123" });
    expect(new Date(line.time as string).toISOString()).to.equal(line.time);
  });

  it("takes its level and format from BANK_CHAIN_LOG_LEVEL and BANK_CHAIN_LOG_FORMAT, refusing unknown ones", function () {
    const { lines, destination } = capture();
    const env = { BANK_CHAIN_LOG_LEVEL: "debug", BANK_CHAIN_LOG_FORMAT: "text" };
    const logger = createLogger({ service: "bank-a", destination, env });
    logger.debug("looked");
    logger.child({ paymentId: "P-1" }).warn("payment P-1 late");
    expect(lines).to.deep.equal(["[bank-a] looked\n", '[bank-a] warn: payment P-1 late paymentId="P-1"\n']);
    for (const bad of [{ BANK_CHAIN_LOG_LEVEL: "loud" }, { BANK_CHAIN_LOG_FORMAT: "xml" }]) {
      expect(() => createLogger({ destination, env: bad }))
        .to.throw(LogConfigError)
        .with.property("code", "LOG_INVALID_SETTING");
    }
  });

  it("gives a plain log(line) function a logger whose lines reach it as their message text", function () {
    const seen: string[] = [];
    const log = (line: string): void => void seen.push(line);
    loggerOf(log).child({ messageId: "0xab" }).info("delivered 0xab");
    loggerOf(log).error({ err: new Error("x") }, "failed");
    expect(seen).to.deep.equal(["delivered 0xab", "failed"]);
    expect(loggerOf(log)).to.equal(loggerOf(log));
  });

  it("keeps a part's name prefix and its id fields through lineLog and loggerOf, structured or plain", function () {
    const { lines, destination } = capture();
    const plain: string[] = [];
    for (const base of [createLogger({ service: "bank-a", destination, env: {} }), loggerOf((l) => plain.push(l))]) {
      const agent = base.child({}, { msgPrefix: "bank-a: " });
      const handedOn = lineLog(agent);
      handedOn("listening");
      loggerOf(handedOn).child({ paymentId: "E2E-1" }).warn("initiate E2E-1 failed, will retry");
    }
    expect(plain).to.deep.equal(["bank-a: listening", "bank-a: initiate E2E-1 failed, will retry"]);
    const structured = lines.map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(structured.map(({ level, msg, paymentId }) => ({ level, msg, paymentId }))).to.deep.equal([
      { level: "info", msg: "bank-a: listening", paymentId: undefined },
      { level: "warn", msg: "bank-a: initiate E2E-1 failed, will retry", paymentId: "E2E-1" },
    ]);
  });
});
