/**
 * The console's HTML: a tagged template that escapes every interpolated value
 * (only `Html` made here passes through as it is), the page layout, and the
 * figure markup every panel uses. A figure is
 * `<a href="<tx or record>"><data value="<raw>" data-source="<source>">text</data></a>`,
 * so a test can read each shown number back from where it came from.
 */

/** Markup that is already safe: only `h` and `raw` make it. */
export class Html {
  readonly #text: string;
  constructor(text: string) {
    this.#text = text;
  }
  toString(): string {
    return this.#text;
  }
}

/** Escapes text for an HTML element or a quoted attribute. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"'`]/g, (c) => `&#${c.charCodeAt(0)};`);
}

type Part = Html | string | number | bigint | boolean | null | undefined | readonly Part[];

function render(part: Part): string {
  if (part === null || part === undefined || part === false) return "";
  if (part instanceof Html) return part.toString();
  if (Array.isArray(part)) return (part as readonly Part[]).map(render).join("");
  return escapeHtml(String(part));
}

/** An HTML fragment: every interpolated value is escaped unless it is `Html` (arrays are joined). */
export function h(strings: TemplateStringsArray, ...values: readonly Part[]): Html {
  let out = strings[0]!;
  for (let i = 0; i < values.length; i += 1) out += render(values[i]!) + strings[i + 1]!;
  return new Html(out);
}

/** Trusted markup the console itself made (an SVG chart): never pass it text from a service. */
export function raw(markup: string): Html {
  return new Html(markup);
}

/** The console's pages, in the navigation bar's order. */
export const PANELS: readonly { readonly path: string; readonly title: string }[] = [
  { path: "/", title: "Overview" },
  { path: "/banks", title: "Banks" },
  { path: "/tokens", title: "Token supply" },
  { path: "/settlements", title: "Settlements" },
  { path: "/bills", title: "Bills" },
  { path: "/cards", title: "Cards" },
  { path: "/offline", title: "Offline" },
  { path: "/interop", title: "Interop" },
  { path: "/certificates", title: "Certificates" },
  { path: "/rewards", title: "Rewards" },
  { path: "/checkout", title: "Checkout" },
  { path: "/keys", title: "Keys" },
];

const STYLE = `
body{font:14px/1.4 system-ui,sans-serif;margin:0;color:#1b1f24;background:#f6f7f9}
nav{background:#1b2a3a;padding:8px 16px}nav a{color:#dfe7ef;margin-right:14px;text-decoration:none}
nav a.here{color:#fff;font-weight:600;border-bottom:2px solid #7fb3ff}
main{padding:16px 24px;max-width:1200px}h1{font-size:22px;margin:8px 0 16px}h2{font-size:17px;margin:22px 0 8px}
table{border-collapse:collapse;background:#fff;margin:6px 0 12px}th,td{border:1px solid #d8dde3;padding:4px 8px;text-align:left;vertical-align:top}
th{background:#eef1f4;font-weight:600}td.n{text-align:right;font-variant-numeric:tabular-nums}
a{color:#0b5cad}data{font-variant-numeric:tabular-nums}code,.mono{font-family:ui-monospace,monospace;font-size:12px}
.cards{display:flex;flex-wrap:wrap;gap:12px}.card{background:#fff;border:1px solid #d8dde3;border-radius:6px;padding:10px 14px;min-width:220px}
.card b{display:block;font-size:12px;color:#5a6570;font-weight:500}.card .big{font-size:20px}
.missing{background:#fff6e0;border:1px solid #e8c66a;padding:8px 12px;border-radius:4px}
.bad{color:#a1251b}.ok{color:#1d7a35}.warn{background:#fdecea;border:1px solid #e4a5a0;padding:10px 14px;border-radius:4px}
button{font-size:14px;padding:6px 14px}svg{background:#fff;border:1px solid #d8dde3}.charts{display:flex;flex-wrap:wrap;gap:8px;margin:10px 0}
`;

/** A whole page: title, navigation (the current panel marked), body. */
export function layout(title: string, current: string, body: Html): Buffer {
  const nav = PANELS.map((p) => h`<a href="${p.path}"${p.path === current ? raw(' class="here"') : ""}>${p.title}</a>`);
  const page = h`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${title} · bank-chain console</title>
<link rel="icon" href="data:,"><meta name="viewport" content="width=device-width,initial-scale=1">
<style>${raw(STYLE)}</style></head>
<body><nav>${nav}</nav><main><h1>${title}</h1>${body}</main></body></html>
`;
  return Buffer.from(page.toString(), "utf8");
}

/** Where a figure comes from: a service's JSON or a chain view at a block. */
export type FigureSource =
  | { readonly service: string; readonly path: string; readonly pointer: string }
  | { readonly chainId: bigint | number; readonly call: string; readonly block: number };

/** `data-source` of a figure (see docs/console.md). */
export function sourceOf(source: FigureSource): string {
  return "service" in source
    ? `${source.service}:${source.path}#${source.pointer}`
    : `chain:${source.chainId}:${source.call}`;
}

/** A JSON pointer (RFC 6901) from its tokens. */
export function pointer(...tokens: readonly (string | number)[]): string {
  return tokens.map((t) => `/${String(t).replace(/~/g, "~0").replace(/\//g, "~1")}`).join("");
}

/** One figure: its raw value, its source, and the link to the tx or record behind it. */
export function figure(value: string | number | bigint | boolean, text: string, source: FigureSource, href: string) {
  const block = "block" in source ? h` data-block="${source.block}"` : "";
  return h`<a href="${href}"><data value="${String(value)}" data-source="${sourceOf(source)}"${block}>${text}</data></a>`;
}

/** The link to a service record's page (`/record/<service>?path=<path>`). */
export function recordHref(service: string, path: string): string {
  return `/record/${encodeURIComponent(service)}?path=${encodeURIComponent(path)}`;
}

/** The link to a transaction's page. */
export function txHref(chainId: bigint | number, hash: string): string {
  return `/tx/${chainId}/${hash}`;
}

/** Minor units as a decimal amount with two decimals and thousands separators (`123456` → `1,234.56`). */
export function money(minor: bigint | string, decimals = 2): string {
  const value = BigInt(minor);
  const negative = value < 0n;
  const abs = negative ? -value : value;
  const scale = 10n ** BigInt(decimals);
  const whole = (abs / scale).toString().replace(/\B(?=(\d{3})+(?!\d))/g, ",");
  const fraction = decimals === 0 ? "" : `.${(abs % scale).toString().padStart(decimals, "0")}`;
  return `${negative ? "-" : ""}${whole}${fraction}`;
}

/** An age in words from two instants (`3 min`, `2 h 5 min`). */
export function age(from: Date, now: Date): string {
  const seconds = Math.max(0, Math.round((now.getTime() - from.getTime()) / 1000));
  if (seconds < 120) return `${seconds} s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 120) return `${minutes} min`;
  return `${Math.floor(minutes / 60)} h ${minutes % 60} min`;
}

/** A short form of a hash or address for tables. */
export function short(hex: string): string {
  return hex.length > 14 ? `${hex.slice(0, 8)}…${hex.slice(-4)}` : hex;
}

/** The notice a panel shows when a service it reads is not running or lacks the route. */
export function unavailable(service: string, reason: string): Html {
  return h`<p class="missing" data-unavailable="${service}">
    service not available: <b>${service}</b> (${reason})
  </p>`;
}
