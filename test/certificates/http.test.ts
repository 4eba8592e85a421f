import SwaggerParser from "@apidevtools/swagger-parser";
import { Ajv2020 } from "ajv/dist/2020.js";
import { expect } from "chai";
import { Wallet } from "ethers";

import { call, type Reply } from "../helpers/http.js";
import { certificatesFixture, signedRequest, signedRevocation, type ServiceUnderTest } from "./service-helpers.js";

/**
 * Checks replies against the service's own OpenAPI document: each reply's
 * status must be documented for its route, and its body must match the
 * documented schema (JSON Schema 2020-12, as OpenAPI 3.1 uses).
 */
class OpenApiCheck {
  readonly #document: any;
  readonly #ajv = new Ajv2020({ strict: false, allErrors: true });
  checked = 0;

  constructor(document: unknown) {
    this.#document = document;
  }

  /** `template` is the OpenAPI path (`/certificates/{uid}`). */
  check(method: string, template: string, reply: Reply): void {
    const operation = this.#document.paths?.[template]?.[method.toLowerCase()];
    expect(operation, `${method} ${template} is not in the document`).to.not.equal(undefined);
    const response = operation.responses[String(reply.status)];
    expect(response, `${method} ${template} answered ${reply.status}, which the document does not list`).to.not.equal(
      undefined,
    );
    const schema = response.content?.["application/json"]?.schema;
    expect(schema, `${method} ${template} ${reply.status} has no schema`).to.not.equal(undefined);
    const validate = this.#ajv.compile(schema);
    const ok = validate(reply.body);
    expect(
      ok,
      `${method} ${template} ${reply.status}: ${JSON.stringify(validate.errors)}\n${JSON.stringify(reply.body)}`,
    ).to.equal(true);
    this.checked += 1;
  }
}

describe("certificates: HTTP API and its OpenAPI document", function () {
  this.timeout(180_000);

  const alice = Wallet.createRandom();
  const mallory = Wallet.createRandom();
  let f: Awaited<ReturnType<typeof certificatesFixture>>;
  let service: ServiceUnderTest;
  let api: OpenApiCheck;

  async function challenge() {
    await service.indexer.poll();
    const reply = await call(`${service.url}/challenge`);
    api.check("GET", "/challenge", reply);
    return reply.body;
  }

  before(async function () {
    f = await certificatesFixture();
    service = await f.start();
    const document = await call(`${service.url}/openapi.json`);
    expect(document.status).to.equal(200);
    api = new OpenApiCheck(await SwaggerParser.dereference(structuredClone(document.body)));
  });

  after(async function () {
    await service?.stop();
    f?.remove();
  });

  it("serves an OpenAPI 3.1 document that swagger-parser validates, listing every route", async function () {
    const { body } = await call(`${service.url}/openapi.json`);
    expect(body.openapi).to.equal("3.1.0");
    await SwaggerParser.validate(structuredClone(body));
    const routes = Object.entries(body.paths as Record<string, Record<string, unknown>>).flatMap(([p, ops]) =>
      Object.keys(ops).map((m) => `${m.toUpperCase()} ${p}`),
    );
    expect(routes).to.include.members([
      "GET /challenge",
      "POST /certificates",
      "GET /certificates",
      "GET /certificates/{uid}",
      "POST /certificates/{uid}/revoke",
      "GET /requests/{id}",
      "GET /openapi.json",
      "GET /health",
    ]);
  });

  it("answers every route as documented, errors included, and a bad input changes nothing", async function () {
    const c = await challenge();
    expect(c.domain).to.deep.equal({
      name: "BankChain Certificates",
      version: "1",
      chainId: "31337",
      verifyingContract: f.get("CertificateResolver"),
    });

    // Malformed bodies: each a 400 naming the field.
    const url = `${service.url}/certificates`;
    const good = await signedRequest(alice, c);
    for (const [body, field] of [
      [{ ...good, nonce: "0x12" }, "nonce"],
      [{ ...good, signature: "0x" }, "signature"],
      [{ ...good, subject: "nobody" }, "subject"],
      [{ ...good, extra: 1 }, undefined],
      [{ ...good, publicKey: `0x04${"00".repeat(64)}` }, "publicKey"],
    ] as const) {
      const reply = await call(url, "POST", body);
      api.check("POST", "/certificates", reply);
      expect(reply.status, JSON.stringify(reply.body)).to.equal(400);
      if (field !== undefined) expect(reply.body.error.field).to.equal(field);
    }
    const other = await call(url, "POST", await signedRequest(alice, c, { signer: mallory }));
    api.check("POST", "/certificates", other);
    expect(other.status).to.equal(403);

    // The same challenge still serves: nothing above consumed it.
    const issued = await call(url, "POST", good);
    api.check("POST", "/certificates", issued);
    expect(issued.status, JSON.stringify(issued.body)).to.equal(201);
    const uid = issued.body.uid as string;

    const replay = await call(url, "POST", good);
    api.check("POST", "/certificates", replay);
    expect(replay.status).to.equal(409);

    const shown = await call(`${service.url}/certificates/${uid}`);
    api.check("GET", "/certificates/{uid}", shown);
    expect(shown.body).to.deep.equal(issued.body);
    const missing = await call(`${service.url}/certificates/0x${"cd".repeat(32)}`);
    api.check("GET", "/certificates/{uid}", missing);
    expect(missing.status).to.equal(404);
    const badUid = await call(`${service.url}/certificates/nope`);
    api.check("GET", "/certificates/{uid}", badUid);
    expect(badUid.status).to.equal(400);

    const stranger = await call(
      `${service.url}/certificates/${uid}/revoke`,
      "POST",
      await signedRevocation(mallory, uid, await challenge()),
    );
    api.check("POST", "/certificates/{uid}/revoke", stranger);
    expect(stranger.status).to.equal(403);
    const revoked = await call(
      `${service.url}/certificates/${uid}/revoke`,
      "POST",
      await signedRevocation(alice, uid, await challenge()),
    );
    api.check("POST", "/certificates/{uid}/revoke", revoked);
    expect(revoked.status).to.equal(200);
    const again = await call(
      `${service.url}/certificates/${uid}/revoke`,
      "POST",
      await signedRevocation(alice, uid, await challenge()),
    );
    api.check("POST", "/certificates/{uid}/revoke", again);
    expect(again.status).to.equal(409);

    const request = await call(`${service.url}/requests/${revoked.body.id}`);
    api.check("GET", "/requests/{id}", request);
    expect(request.body.state).to.equal("done");
    const noRequest = await call(`${service.url}/requests/0x${"00".repeat(16)}`);
    api.check("GET", "/requests/{id}", noRequest);
    expect(noRequest.status).to.equal(404);

    const health = await call(`${service.url}/health`);
    api.check("GET", "/health", health);
    expect(health.status).to.equal(200);
    expect(api.checked).to.be.greaterThan(15);
  });

  it("GET /certificates lists those issued newest first with their status on chain, by status, each once", async function () {
    const holders = [Wallet.createRandom(), Wallet.createRandom(), Wallet.createRandom()];
    const uids: string[] = [];
    for (const holder of holders) {
      const issued = await call(`${service.url}/certificates`, "POST", await signedRequest(holder, await challenge()));
      expect(issued.status, JSON.stringify(issued.body)).to.equal(201);
      uids.push(issued.body.uid as string);
    }
    const revoked = await call(
      `${service.url}/certificates/${uids[1]}/revoke`,
      "POST",
      await signedRevocation(holders[1]!, uids[1]!, await challenge()),
    );
    expect(revoked.status).to.equal(200);

    const list = async (query: string) => {
      const reply = await call(`${service.url}/certificates${query}`);
      api.check("GET", "/certificates", reply);
      return reply;
    };
    const every = async (query: string) => {
      const seen: any[] = [];
      let cursor: string | null = null;
      let pages = 0;
      do {
        const { status, body } = await list(`?${query}${cursor === null ? "" : `&cursor=${cursor}`}`);
        expect(status).to.equal(200);
        seen.push(...body.items);
        cursor = body.nextCursor;
        pages += 1;
      } while (cursor !== null && pages < 20);
      return { seen, pages };
    };

    // The earlier test's certificate (revoked) is there too, older.
    const all = await every("limit=1");
    expect(all.pages).to.equal(4);
    expect(all.seen.slice(0, 3).map((item) => item.uid)).to.deep.equal([...uids].reverse());
    expect(new Set(all.seen.map((item) => item.uid)).size).to.equal(4);
    for (const item of all.seen) {
      const shown = (await call(`${service.url}/certificates/${item.uid}`)).body;
      expect(item).to.deep.equal({
        uid: shown.uid,
        subject: shown.subject,
        level: shown.level,
        issuedAt: new Date(shown.issuedAt * 1000).toISOString(),
        expiresAt: new Date(Number(shown.attestation.expirationTime) * 1000).toISOString(),
        status: shown.status,
        txHash: shown.txHash,
      });
    }
    expect(all.seen[0].subject).to.equal(holders[2]!.address);

    const valid = await every("status=Valid");
    expect(valid.seen.map((item) => item.uid)).to.deep.equal([uids[2], uids[0]]);
    const gone = await every("status=Revoked&limit=1");
    expect(gone.seen.map((item) => item.uid)).to.deep.equal([uids[1], all.seen[3].uid]);
    expect((await every("status=Expired")).seen).to.deep.equal([]);

    for (const [query, field] of [
      ["?status=Lost", "status"],
      ["?limit=0", "limit"],
      ["?limit=501", "limit"],
      ["?cursor=bm90LWpzb24", "cursor"], // "not-json"
      ["?cursor=WzEsMF0", "cursor"], // [1,0]: no record 0
      ["?subject=0x0000000000000000000000000000000000000001", "subject"],
    ] as const) {
      const reply = await list(query);
      expect([query, reply.status, reply.body.error?.field]).to.deep.equal([query, 400, field]);
    }
  });
});
