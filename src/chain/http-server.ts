import type { Server } from "node:http";
import type { AddressInfo, Server as NetServer } from "node:net";

/**
 * Starts `server` (HTTP or plain TCP) listening on `host:port` (port 0: any
 * free port) and returns its URL, `<scheme>://<host>:<port>` with an IPv6 host
 * in brackets. A listen error (port in use, bad host) rejects.
 */
export async function listen(server: NetServer, port: number, host: string, scheme = "http"): Promise<string> {
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => {
      server.off("error", reject);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  const shown = address.family === "IPv6" ? `[${address.address}]` : address.address;
  return `${scheme}://${shown}:${address.port}`;
}

/** Stops accepting connections, closes idle ones, and waits for the requests under way. */
export async function close(server: Server): Promise<void> {
  if (!server.listening) return;
  await new Promise<void>((resolve) => {
    server.close(() => resolve());
    server.closeIdleConnections();
  });
}
