/**
 * The pages figures link to: a transaction (`/tx/:chainId/:hash`, its receipt
 * and its logs decoded against every deployed ABI) and a service record
 * (`/record/:service?path=`, one GET on that service's own base URL, shown as
 * JSON). Neither page can reach anything but the chains and services the
 * console already reads.
 */
import { z } from "zod";

import { HttpError } from "../chain/http.js";
import type { ChainReader } from "./chain.js";
import { h, txHref, unavailable, type Html } from "./html.js";
import { apiOf, type ServiceSources } from "./sources.js";

/** `/tx/:chainId/:hash`. */
export async function txPage(chain: ChainReader, hash: string): Promise<Html> {
  const receipt = await chain.receipt(hash);
  if (receipt === undefined) {
    throw new HttpError(404, "CONSOLE_UNKNOWN_TX", `chain ${chain.chainId} has no transaction ${hash}`);
  }
  const logs = receipt.logs.map(
    (log) =>
      h`<tr>
        <td class="n">${log.index}</td>
        <td>${log.contract ?? h`<span class="mono">${log.address}</span>`}</td>
        <td>${log.event === undefined ? h`<i>not decoded</i>` : h`<b class="event">${log.event.name}</b>`}</td>
        <td>
          ${
            log.event === undefined
              ? h`<span class="mono">${log.topics.join(" ")} ${log.data}</span>`
              : h`<table>
                  ${log.event.args.map(
                    (a) =>
                      h`<tr>
                        <th>${a.name}</th>
                        <td class="mono">${a.value}</td>
                      </tr>`,
                  )}
                </table>`
          }
        </td>
      </tr>`,
  );
  return h`<table id="receipt">
      <tr>
        <th>hash</th>
        <td class="mono">${receipt.hash}</td>
      </tr>
      <tr>
        <th>status</th>
        <td class="${receipt.status === 1 ? "ok" : "bad"}">${receipt.status === 1 ? "success" : "reverted"}</td>
      </tr>
      <tr>
        <th>block</th>
        <td>${receipt.blockNumber}</td>
      </tr>
      <tr>
        <th>from</th>
        <td class="mono">${receipt.from}</td>
      </tr>
      <tr>
        <th>to</th>
        <td class="mono">${receipt.to ?? "(contract creation)"} ${receipt.toContract ?? ""}</td>
      </tr>
      <tr>
        <th>gas used</th>
        <td>${receipt.gasUsed}</td>
      </tr>
    </table>
    <h2>logs (${receipt.logs.length})</h2>
    ${
      logs.length === 0
        ? h`<p>none</p>`
        : h`<table id="logs">
            <tr>
              <th>#</th>
              <th>contract</th>
              <th>event</th>
              <th>arguments</th>
            </tr>
            ${logs}
          </table>`
    }
    <p><a href="${txHref(chain.chainId, receipt.hash)}">permalink</a></p>`;
}

/** A record path: absolute, on the service itself (no scheme, no `//`, no `..`), printable ASCII. */
export function checkRecordPath(path: string): string {
  if (!/^\/[A-Za-z0-9_\-.~/?=&%:,+]*$/.test(path) || path.includes("//") || path.includes("..")) {
    throw new HttpError(
      400,
      "CONSOLE_BAD_RECORD_PATH",
      "path: must be a path on the service, like /payments/abc",
      "path",
    );
  }
  return path;
}

/** `/record/:service?path=`. */
export async function recordPage(sources: ServiceSources, service: string, path: string): Promise<Html> {
  checkRecordPath(path);
  if (sources.url(service) === undefined) {
    throw new HttpError(404, "CONSOLE_UNKNOWN_SERVICE", `no HTTP service ${service} is running`, "service");
  }
  const url = new URL(path, "http://service.invalid");
  const got = await sources.get(
    service,
    apiOf(service),
    url.pathname,
    z.unknown(),
    Object.fromEntries(url.searchParams),
  );
  if (!got.ok) return unavailable(service, got.reason);
  return h`<p>GET <span class="mono">${got.path}</span> on ${service}</p>
    <pre id="record">${JSON.stringify(got.data, null, 2)}</pre>`;
}
