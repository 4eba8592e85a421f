import { createServer, type Server } from "node:http";

/**
 * An HTTP server on 127.0.0.1 that answers every request with what `handler`
 * says, for a node that answers wrongly (HTML, a foreign chain id, an error).
 * The caller closes `server`.
 */
export async function fakeNode(
  handler: (body: string) => { status: number; body: string },
): Promise<{ url: string; server: Server }> {
  const server = createServer((req, res) => {
    let body = "";
    req.on("data", (chunk: Buffer) => (body += chunk.toString()));
    req.on("end", () => {
      const reply = handler(body);
      res.writeHead(reply.status, { "content-type": "application/json" }).end(reply.body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  const port = typeof address === "object" && address !== null ? address.port : 0;
  return { url: `http://127.0.0.1:${port}`, server };
}
