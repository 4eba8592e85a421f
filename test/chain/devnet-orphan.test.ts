import { readFileSync } from "node:fs";

import { expect } from "chai";

import { probeChainId } from "../../src/chain/config.js";
import { freePort, runNode } from "../helpers/processes.js";

/** Whether `pid` is still a running process (a zombie waiting for its reaper counts as gone). */
function running(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    // The state is the field after the parenthesised command name.
    return stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3) !== "Z";
  } catch {
    return false;
  }
}

describe("devnet: an Anvil its parent did not stop", function () {
  this.timeout(60_000);

  for (const [how, ending] of [
    ["throws an uncaught error", "setTimeout(() => { throw new Error('parent crashed'); }, 0);"],
    ["calls process.exit()", "process.exit(3);"],
  ] as const) {
    it(`is stopped when its parent ${how}`, async function () {
      const port = await freePort();
      const url = `http://127.0.0.1:${port}`;
      const script =
        `import { startAnvil } from "./src/chain/devnet.ts";` +
        `const anvil = await startAnvil({ endpoint: { host: "127.0.0.1", port: ${port}, url: "${url}" }, chainId: 31999 });` +
        `console.log("anvil " + anvil.process.pid);` +
        ending;
      const parent = await runNode(["--import", "tsx", "--input-type=module", "-e", script], {});
      expect(parent.code, parent.stderr).to.not.equal(0);
      const pid = Number(/anvil (\d+)/.exec(parent.stdout)?.[1]);
      expect(pid, parent.stdout + parent.stderr).to.be.greaterThan(0);
      const deadline = Date.now() + 20_000;
      while (running(pid) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 100));
      const left = running(pid);
      if (left) process.kill(pid, "SIGKILL");
      expect(left, `anvil ${pid} outlived its parent`).to.equal(false);
      const answered = await probeChainId(url, 500).then(
        (id) => id,
        () => undefined,
      );
      expect(answered, "nothing answers on the port").to.equal(undefined);
    });
  }
});
