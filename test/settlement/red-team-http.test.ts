/**
 * Red team: hostile requests on bank A's `POST /payments`.
 * - Malformed, out-of-range and refused orders (bad amounts, banks, accounts, currencies and ids; unknown or
 *   polluting fields; bodies that are not an object, not JSON, not UTF-8, too big or too deep): each gets a 4xx
 *   with an error code and a message (a body over the size limit 413 REQUEST_TOO_LARGE), and none leaves anything
 *   behind: no payment, no journal entry, no balance moved, no token minted. The agent still takes a good order
 *   afterwards.
 * - The same end-to-end id sent 20 times at once: accepted exactly once, debited once, a duplicate ever after.
 * - Ten orders of 100 at once from a customer holding 500: five accepted, five refused INSUFFICIENT_FUNDS; she
 *   is never debited more than she holds.
 * - An order of a customer's whole balance settles; one more unit is refused.
 */
import { request as httpRequest } from "node:http";

import { expect } from "chai";

import { ALICE_OPENING, expectBalanced, http, startBanks, stepsOf, waitForPayment, type Banks } from "./helpers.js";

const order = (endToEndId: string, more: Record<string, unknown> = {}) => ({
  debtorAccount: "alice",
  creditorBank: "B",
  creditorAccount: "bob",
  amount: "100",
  currency: "USD",
  endToEndId,
  ...more,
});

/** An order as JSON text. */
const json = (body: unknown): string => JSON.stringify(body);

interface ErrorJson {
  error: { code: string; message: string; field?: string };
}

/** What a raw POST got: the status and the body's text, or the connection error that came instead. */
type RawAnswer = { status: number; text: string } | { error: string };

/**
 * POSTs any bytes with any content-type (the `http` helper sends only JSON-able bodies and reads only JSON), each
 * on a connection of its own: the agent closes the connection of a body it did not read whole, so a kept-alive
 * one could be reset under the next request, whatever that request is.
 */
function rawPost(url: string, body: Buffer | string, contentType = "application/json"): Promise<RawAnswer> {
  return new Promise((resolve) => {
    const target = new URL(`${url}/payments`);
    const request = httpRequest(
      {
        host: target.hostname,
        port: target.port,
        path: target.pathname,
        method: "POST",
        agent: false,
        headers: { "content-type": contentType },
      },
      (response) => {
        const chunks: Buffer[] = [];
        response.on("data", (chunk: Buffer) => chunks.push(chunk));
        response.on("end", () =>
          resolve({ status: response.statusCode ?? 0, text: Buffer.concat(chunks).toString("utf8") }),
        );
        response.on("error", (error) => resolve({ error: error.message }));
      },
    );
    request.on("error", (error: NodeJS.ErrnoException) => resolve({ error: error.code ?? error.message }));
    request.end(body);
  });
}

/** Where the answer falls short of a 4xx with an error code and a message; undefined if it does not. */
function shortfall(answer: RawAnswer): string | undefined {
  if ("error" in answer) return `no answer: ${answer.error}`;
  let body: Partial<ErrorJson> = {};
  try {
    body = JSON.parse(answer.text) as Partial<ErrorJson>;
  } catch {
    return `${answer.status}, not JSON: ${answer.text.slice(0, 200)}`;
  }
  const good = answer.status >= 400 && answer.status < 500 && !!body.error?.code && !!body.error?.message;
  return good ? undefined : `${answer.status} ${answer.text.slice(0, 200)}`;
}

/** Bodies with something wrong in them, as the JSON text sent. */
const BAD_ORDERS: ReadonlyArray<readonly [string, string]> = [
  ["amount zero (string)", json(order("BAD-1", { amount: "0" }))],
  ["amount zero (number)", json(order("BAD-2", { amount: 0 }))],
  ["amount negative (string)", json(order("BAD-3", { amount: "-5" }))],
  ["amount negative (number)", json(order("BAD-4", { amount: -5 }))],
  ["amount fractional (number)", json(order("BAD-5", { amount: 1.5 }))],
  ["amount fractional (string)", json(order("BAD-6", { amount: "1.5" }))],
  ["amount with an exponent (string)", json(order("BAD-7", { amount: "1e3" }))],
  ["amount in hex (string)", json(order("BAD-8", { amount: "0x10" }))],
  ["amount past the safe JSON integers", json(order("BAD-9", { amount: 9007199254740993 }))],
  ["amount 1e400 (Infinity when parsed)", json(order("BAD-INF")).replace('"100"', "1e400")],
  ["amount just over the agent's cap", json(order("BAD-10", { amount: "1000000001" }))],
  ["amount 2^64", json(order("BAD-11", { amount: (2n ** 64n).toString() }))],
  ["amount 2^256", json(order("BAD-12", { amount: (2n ** 256n).toString() }))],
  ["amount of 79 digits", json(order("BAD-13", { amount: "9".repeat(79) }))],
  ["amount with a space", json(order("BAD-14", { amount: " 100" }))],
  ["amount in Arabic-Indic digits", json(order("BAD-15", { amount: "١٠٠" }))],
  ["amount over what alice holds", json(order("BAD-16", { amount: (ALICE_OPENING + 1n).toString() }))],
  ["amount a boolean", json(order("BAD-17", { amount: true }))],
  ["amount an array", json(order("BAD-18", { amount: ["100"] }))],
  ["unknown creditor bank", json(order("BAD-19", { creditorBank: "Z" }))],
  ["creditor bank in lower case", json(order("BAD-20", { creditorBank: "b" }))],
  ["creditor bank the agent's own", json(order("BAD-21", { creditorBank: "A" }))],
  ["creditor bank __proto__", json(order("BAD-22", { creditorBank: "__proto__" }))],
  ["creditor bank an address", json(order("BAD-23", { creditorBank: "0x0000000000000000000000000000000000000000" }))],
  ["unknown debtor account", json(order("BAD-24", { debtorAccount: "mallory" }))],
  ["an internal account as debtor", json(order("BAD-25", { debtorAccount: "internal:cash" }))],
  ["currency EUR", json(order("BAD-26", { currency: "EUR" }))],
  ["currency in lower case", json(order("BAD-27", { currency: "usd" }))],
  ["end-to-end id empty", json(order(""))],
  ["end-to-end id of 33 characters", json(order("X".repeat(33)))],
  ["end-to-end id with an accent", json(order("PAY-é"))],
  ["end-to-end id with an emoji", json(order("PAY-😀"))],
  ["end-to-end id with a slash", json(order("PAY/1"))],
  ["end-to-end id with a space", json(order("PAY 1"))],
  ["end-to-end id with NUL", json(order("PAY\u0000"))],
  ["end-to-end id with a newline", json(order("PAY-1\n"))],
  ["end-to-end id in full-width letters", json(order("ＰＡＹ"))],
  ["an unknown extra field", json({ ...order("BAD-28"), deadline: 1 })],
  ["a __proto__ field", json(order("BAD-29")).replace(/}$/, ',"__proto__":{"amount":"1"}}')],
  ["the amount missing", json({ ...order("BAD-30"), amount: undefined })],
  ["the body an array", json([order("BAD-31")])],
  ["the body a string", json("hello")],
  ["the body null", "null"],
  ["creditor account with a colon", json(order("BAD-32", { creditorAccount: "internal:suspense" }))],
  ["creditor account empty", json(order("BAD-33", { creditorAccount: "" }))],
];

/** Abuse of the transport: bytes, content types and sizes. */
const BAD_BODIES: ReadonlyArray<readonly [string, Buffer | string, string?]> = [
  ["malformed JSON", "{"],
  ["trailing garbage", `${json(order("RAW-1"))}xyz`],
  ["two JSON values", `${json(order("RAW-2"))}${json(order("RAW-3"))}`],
  ["an empty body", ""],
  ["invalid UTF-8", Buffer.from([0x7b, 0x22, 0xff, 0xfe, 0x22, 0x3a, 0x31, 0x7d])],
  ["a JSON order sent as text/plain", json(order("RAW-4")), "text/plain"],
  ["100,000 nested arrays", `${"[".repeat(100_000)}${"]".repeat(100_000)}`],
];

/** Bodies over the agent's size limit (64 KiB): answered 413 REQUEST_TOO_LARGE, not read whole. */
const OVERSIZED: ReadonlyArray<readonly [string, Buffer | string]> = [
  ["a 2 MB order", json({ ...order("RAW-5"), pad: "x".repeat(2_000_000) })],
  ["20 MB of spaces", Buffer.alloc(20_000_000, 0x20)],
];

describe("settlement red team: http", function () {
  let banks: Banks | undefined;

  afterEach(async function () {
    await banks?.stop();
    banks = undefined;
  });

  /** Every balance, journal entry and payment at both banks, and what the chain holds. */
  async function snapshot(b: Banks) {
    return {
      a: b.a.ledger.accounts().map((account) => [account.id, account.balance]),
      b: b.b.ledger.accounts().map((account) => [account.id, account.balance]),
      entries: [b.a.ledger.entries().length, b.b.ledger.entries().length],
      payments: [b.a.payments.list("outbound").length, b.a.payments.list("inbound").length],
      inbound: b.b.payments.list("inbound").length,
      supply: await b.suite.token.totalSupply(),
      inFlight: await b.settlement.totalInFlight(),
    };
  }

  it("every malformed or refused order gets a 4xx with a code and a message, and changes nothing", async function () {
    banks = await startBanks();
    const { a, b } = banks;
    const before = await snapshot(banks);
    const failures: string[] = [];
    for (const [what, body] of BAD_ORDERS) {
      const problem = shortfall(await rawPost(a.url, body));
      if (problem !== undefined) failures.push(`${what}: ${problem}`);
    }
    for (const [what, body, contentType] of BAD_BODIES) {
      const problem = shortfall(await rawPost(a.url, body, contentType));
      if (problem !== undefined) failures.push(`${what}: ${problem}`);
    }
    for (const [what, body] of OVERSIZED) {
      const answer = await rawPost(a.url, body);
      const problem = shortfall(answer);
      if (problem !== undefined) failures.push(`${what}: ${problem}`);
      else if (!("status" in answer && answer.status === 413 && answer.text.includes('"REQUEST_TOO_LARGE"'))) {
        failures.push(`${what}: not 413 REQUEST_TOO_LARGE: ${JSON.stringify(answer)}`);
      }
    }
    expect(failures, failures.join("\n")).to.deep.equal([]);
    expect(await snapshot(banks)).to.deep.equal(before);

    // The agent still takes a good order.
    expect((await http(`${a.url}/payments`, "POST", order("AFTER-BAD"))).status).to.equal(202);
    await waitForPayment(a, "AFTER-BAD", (p) => p.status === "Acknowledged");
    expect(a.ledger.balance("alice")).to.equal(ALICE_OPENING - 100n);
    expectBalanced(a, b);
  });

  it("the same end-to-end id sent 20 times at once is accepted exactly once and debited once", async function () {
    banks = await startBanks();
    const { a, b } = banks;
    const answers = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        http<ErrorJson>(`${a.url}/payments`, "POST", order("RACE-1", { amount: String(100 + i) })),
      ),
    );
    const statuses = answers.map((answer) => answer.status);
    expect(
      statuses.filter((status) => status === 202),
      JSON.stringify(statuses),
    ).to.have.length(1);
    for (const answer of answers.filter((x) => x.status !== 202)) {
      expect(answer.status, JSON.stringify(answer.body)).to.equal(409);
      expect(answer.body.error.code).to.equal("DUPLICATE_END_TO_END_ID");
    }
    const done = await waitForPayment(a, "RACE-1", (p) => p.status === "Acknowledged");
    expect(done.amount).to.equal(String(100 + statuses.indexOf(202)));
    expect(a.ledger.balance("alice")).to.equal(ALICE_OPENING - BigInt(done.amount));
    expect(b.ledger.balance("bob")).to.equal(1_000n + BigInt(done.amount));
    expect(stepsOf(a, "outbound", "RACE-1")).to.deep.equal(["debit", "acknowledge"]);
    // Settled, the id is still taken.
    expect((await http(`${a.url}/payments`, "POST", order("RACE-1"))).status).to.equal(409);
    expectBalanced(a, b);
  });

  it("ten orders at once beyond a customer's balance: five accepted, the rest refused, never overdrawn", async function () {
    banks = await startBanks();
    const { a, b } = banks;
    // carol holds 500: ten orders of 100 at once.
    const answers = await Promise.all(
      Array.from({ length: 10 }, (_, i) =>
        http<ErrorJson>(`${a.url}/payments`, "POST", order(`CAROL-${i}`, { debtorAccount: "carol" })),
      ),
    );
    const accepted = answers.flatMap((answer, i) => (answer.status === 202 ? [`CAROL-${i}`] : []));
    expect(accepted, JSON.stringify(answers.map((x) => x.status))).to.have.length(5);
    for (const answer of answers.filter((x) => x.status !== 202)) {
      expect(answer.status, JSON.stringify(answer.body)).to.equal(422);
      expect(answer.body.error.code).to.equal("INSUFFICIENT_FUNDS");
    }
    expect(a.ledger.balance("carol")).to.equal(0n);
    for (const id of accepted) await waitForPayment(a, id, (p) => p.status === "Acknowledged");
    expect(a.payments.list("outbound")).to.have.length(5);
    expect(a.ledger.balance("carol")).to.equal(0n);
    expect(b.ledger.balance("bob")).to.equal(1_000n + 500n);
    expectBalanced(a, b);
  });

  it("an order of a customer's whole balance settles; one more unit is refused INSUFFICIENT_FUNDS", async function () {
    banks = await startBanks();
    const { a, b } = banks;
    // alice holds 10,000,000 minor units, under the agent's cap of 1,000,000,000.
    const posted = await http<ErrorJson>(
      `${a.url}/payments`,
      "POST",
      order("ALL-IN", { amount: String(ALICE_OPENING) }),
    );
    expect(posted.status, JSON.stringify(posted.body)).to.equal(202);
    await waitForPayment(a, "ALL-IN", (p) => p.status === "Acknowledged");
    expect(a.ledger.balance("alice")).to.equal(0n);
    expect(b.ledger.balance("bob")).to.equal(1_000n + ALICE_OPENING);
    const over = await http<ErrorJson>(`${a.url}/payments`, "POST", order("OVER-1", { amount: "1" }));
    expect(over.status).to.equal(422);
    expect(over.body.error.code).to.equal("INSUFFICIENT_FUNDS");
    expect(a.payment("OVER-1")).to.equal(undefined);
    expectBalanced(a, b);
  });
});
