/**
 * `logTo` (`src/chain/command.ts`): the event lines the CLI commands write to
 * stderr. A field left undefined is not shown: `offline sync` printed
 * `voucher_settled: … reason=undefined paid=1250 owed=undefined`.
 */
import { expect } from "chai";

import { logTo } from "../../src/chain/command.js";

function capture(json: boolean): { lines: string[]; log: ReturnType<typeof logTo> } {
  const lines: string[] = [];
  const stream = { write: (chunk: string) => lines.push(chunk) } as unknown as NodeJS.WriteStream;
  return { lines, log: logTo(stream, json) };
}

describe("chain/command: logTo", function () {
  it("text: leaves out undefined fields, keeps null, 0, false, empty text and objects", function () {
    const { lines, log } = capture(false);
    log("voucher_settled", {
      hash: "0xab",
      reason: undefined,
      paid: "1250",
      owed: undefined,
      note: null,
      count: 0,
      done: false,
      text: "",
      more: { a: 1n },
    });
    expect(lines).to.deep.equal([
      'voucher_settled: hash=0xab paid=1250 note=null count=0 done=false text= more={"a":"1"}\n',
    ]);
  });

  it("JSON: one object per line, undefined fields left out", function () {
    const { lines, log } = capture(true);
    log("voucher_settled", { hash: "0xab", reason: undefined, paid: "1250" });
    expect(lines).to.have.length(1);
    expect(JSON.parse(lines[0]!)).to.deep.equal({ event: "voucher_settled", hash: "0xab", paid: "1250" });
  });
});
