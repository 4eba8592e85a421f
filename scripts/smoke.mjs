#!/usr/bin/env node
// CI's smoke step: what a new user does on a fresh clone, checked end to end.
//
// 1. `npm start` with nothing built (on CI the clone has no artifacts/,
//    typechain-types/ or generated/; this script refuses to run otherwise when
//    CI=true), waiting for the ready line;
// 2. the README's interbank payment, polled to Acknowledged;
// 3. SIGINT, as Ctrl-C sends it, and a check that no port is left listening;
// 4. a second `npm start` that must come back with the payment still there,
//    stopped the same way.
//
// Plain Node (no TypeScript, no dependencies): it runs before anything is built.
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { connect } from "node:net";
import path from "node:path";
import { fileURLToPath } from "node:url";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const READY = /bank-chain ready rpc=(\S+) chainId=(\d+)/;
const PAYMENT = {
  debtorAccount: "alice",
  creditorBank: "B",
  creditorAccount: "bob",
  amount: "12345",
  currency: "USD",
  endToEndId: `E2E-SMOKE-${Date.now()}`,
};

const say = (line) => process.stdout.write(`[smoke] ${line}\n`);
class SmokeFailure extends Error {}
function fail(line) {
  throw new SmokeFailure(line);
}
/** Stacks started and not yet stopped: stopped with SIGINT when the smoke step fails. */
const active = new Set();

function startStack(label) {
  const started = Date.now();
  const child = spawn("npm", ["start"], { cwd: root, detached: true, stdio: ["ignore", "pipe", "pipe"] });
  let stdout = "";
  let stderr = "";
  child.stderr.on("data", (chunk) => {
    stderr += chunk;
    for (const line of chunk.toString().split("\n")) if (line.trim() !== "") say(`  ${line}`);
  });
  // "close", not "exit": npm dies of the SIGINT at once, while the start script it ran (which
  // holds the same pipes) is still stopping the services and the devnet.
  const exited = new Promise((resolve) => child.on("close", (code, signal) => resolve({ code, signal })));
  const ready = new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no ready line within 20 minutes:\n${stderr}`)), 20 * 60_000);
    child.stdout.on("data", (chunk) => {
      stdout += chunk;
      const match = READY.exec(stdout);
      if (match !== null) {
        clearTimeout(timer);
        const services = new Map(
          [...stdout.matchAll(/^ {2}service (\S+) ((?:http|tcp):\/\/\S+)$/gm)].map((m) => [m[1], m[2]]),
        );
        resolve({ rpc: match[1], services });
      }
    });
    void exited.then(({ code, signal }) => {
      clearTimeout(timer);
      reject(new Error(`npm start exited (${code ?? signal}) before its ready line:\n${stderr}`));
    });
  });
  const stack = {
    child,
    exited,
    ready: ready.then((value) => {
      say(`${label}: ready after ${((Date.now() - started) / 1000).toFixed(1)} s`);
      return value;
    }),
    /** Ctrl-C: SIGINT to the whole process group, as a terminal sends it. */
    async interrupt() {
      active.delete(stack);
      if (child.exitCode === null && child.signalCode === null) process.kill(-child.pid, "SIGINT");
      const killer = setTimeout(() => process.kill(-child.pid, "SIGKILL"), 60_000);
      const { code, signal } = await exited;
      clearTimeout(killer);
      // npm itself may die of the signal (as it does on a terminal's Ctrl-C); the start script must have stopped cleanly.
      if (!(code === 0 || signal === "SIGINT" || code === 130) || !/devnet stopped; its state is saved/.test(stderr)) {
        fail(`${label}: npm start did not stop cleanly after SIGINT (${code ?? signal}):\n${stderr}`);
      }
    },
  };
  active.add(stack);
  return stack;
}

async function getPayment(agent, id) {
  const reply = await fetch(`${agent}/payments/${id}`);
  if (reply.status !== 200) fail(`GET /payments/${id} answered ${reply.status}: ${await reply.text()}`);
  return reply.json();
}

function listening(url) {
  const { hostname, port } = new URL(url.replace(/^tcp:/, "http:"));
  return new Promise((resolve) => {
    const socket = connect({ host: hostname.replace(/^\[|\]$/g, ""), port: Number(port) });
    socket.once("connect", () => {
      socket.destroy();
      resolve(true);
    });
    socket.once("error", () => resolve(false));
  });
}

async function checkNothingListens(urls) {
  for (const url of urls) if (await listening(url)) fail(`${url} still accepts connections after SIGINT`);
  say(`nothing listens any more on ${urls.join(", ")}`);
}

if (process.env.CI === "true") {
  const built = ["artifacts", "typechain-types", "generated"].filter((dir) => existsSync(path.join(root, dir)));
  if (built.length > 0) fail(`the smoke step must start from nothing built, but ${built.join(", ")} exist`);
}

try {
  const first = startStack("first start");
  const { rpc, services } = await first.ready;
  const agent = services.get("bank-a");
  if (agent === undefined) fail("npm start printed no bank-a service");
  const posted = await fetch(`${agent}/payments`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(PAYMENT),
  });
  if (posted.status !== 202) fail(`POST /payments answered ${posted.status}: ${await posted.text()}`);
  const sent = Date.now();
  for (;;) {
    const { status } = await getPayment(agent, PAYMENT.endToEndId);
    if (status === "Acknowledged") break;
    if (Date.now() - sent > 60_000) fail(`payment still ${status} after 60 s`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  say(`payment ${PAYMENT.endToEndId} Acknowledged ${Date.now() - sent} ms after POST /payments`);
  await first.interrupt();
  await checkNothingListens([rpc, ...services.values()]);

  const second = startStack("restart");
  const again = await second.ready;
  const { status } = await getPayment(again.services.get("bank-a"), PAYMENT.endToEndId);
  if (status !== "Acknowledged") fail(`after the restart the payment is ${status}, not Acknowledged`);
  say("after the restart the payment is still Acknowledged");
  await second.interrupt();
  await checkNothingListens([again.rpc, ...again.services.values()]);
  say("passed");
} catch (error) {
  process.stderr.write(`[smoke] FAILED: ${error instanceof Error ? error.message : String(error)}\n`);
  for (const stack of active) await stack.interrupt().catch(() => undefined);
  process.exit(1);
}
