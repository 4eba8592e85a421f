/**
 * A line chart as inline SVG, made on the server: one or more series of
 * (time, value) points on shared axes, the first and last instant and the
 * axis bounds written as text. The value axis starts at 0, or (`fit`) spans
 * the values' own range, so a change of 0.1 % of a large figure still shows.
 * Labels are escaped; no script.
 */
import { escapeHtml, raw, type Html } from "./html.js";

/** One line of a chart. */
export interface Series {
  readonly label: string;
  readonly colour: string;
  readonly points: readonly { readonly at: Date; readonly value: number }[];
}

const WIDTH = 520;
const HEIGHT = 180;
const PAD = { left: 100, right: 12, top: 12, bottom: 30 };

/** How the value axis is drawn: from 0 (counts), or fitted to the values (large figures that move a little). */
export interface ChartOptions {
  readonly axis?: "zero" | "fit";
}

/** The value axis `[bottom, top]` for `values`: from 0, or their range with a tenth of it (or 1 %) either side. */
export function valueAxis(values: readonly number[], axis: "zero" | "fit"): readonly [number, number] {
  const max = Math.max(...values);
  const min = Math.min(...values);
  if (axis === "zero") {
    const top = Math.max(max, 0);
    return [0, top === 0 ? 1 : top * 1.1];
  }
  const pad = max === min ? Math.abs(max) * 0.01 || 1 : (max - min) * 0.1;
  return [min - pad, max + pad];
}

/** The chart of `series`, titled `title`; `format` writes the axis values. */
export function lineChart(
  title: string,
  series: readonly Series[],
  format: (value: number) => string,
  options: ChartOptions = {},
): Html {
  const all = series.flatMap((s) => s.points);
  const label = escapeHtml(title);
  if (all.length === 0) {
    return raw(
      `<svg role="img" aria-label="${label}" width="${WIDTH}" height="60" viewBox="0 0 ${WIDTH} 60"><text x="10" y="34" font-size="13">${label}: no samples yet</text></svg>`,
    );
  }
  const t0 = Math.min(...all.map((p) => p.at.getTime()));
  const t1 = Math.max(...all.map((p) => p.at.getTime()));
  const [bottom, top] = valueAxis(
    all.map((p) => p.value),
    options.axis ?? "zero",
  );
  const w = WIDTH - PAD.left - PAD.right;
  const h = HEIGHT - PAD.top - PAD.bottom;
  const x = (t: number): number => PAD.left + (t1 === t0 ? w : ((t - t0) / (t1 - t0)) * w);
  const y = (v: number): number => PAD.top + h - ((v - bottom) / (top - bottom)) * h;
  const lines = series
    .filter((s) => s.points.length > 0)
    .map((s) => {
      const points = s.points.map((p) => `${x(p.at.getTime()).toFixed(1)},${y(p.value).toFixed(1)}`);
      // One sample draws a dot, not an invisible line.
      const shape =
        points.length === 1
          ? `<circle cx="${points[0]!.split(",")[0]}" cy="${points[0]!.split(",")[1]}" r="3" fill="${s.colour}"/>`
          : `<polyline fill="none" stroke="${s.colour}" stroke-width="2" points="${points.join(" ")}"/>`;
      return shape;
    })
    .join("");
  const legend = series
    .map(
      (s, i) =>
        `<rect x="${PAD.left + i * 120}" y="${HEIGHT - 12}" width="10" height="10" fill="${s.colour}"/><text x="${PAD.left + 14 + i * 120}" y="${HEIGHT - 3}" font-size="11">${escapeHtml(s.label)}</text>`,
    )
    .join("");
  const time = (t: number): string => new Date(t).toISOString().slice(11, 19);
  return raw(
    `<svg role="img" aria-label="${label}" width="${WIDTH}" height="${HEIGHT}" viewBox="0 0 ${WIDTH} ${HEIGHT}">` +
      `<text x="${PAD.left}" y="10" font-size="11" font-weight="600">${label}</text>` +
      `<line x1="${PAD.left}" y1="${PAD.top}" x2="${PAD.left}" y2="${PAD.top + h}" stroke="#888"/>` +
      `<line x1="${PAD.left}" y1="${PAD.top + h}" x2="${PAD.left + w}" y2="${PAD.top + h}" stroke="#888"/>` +
      `<text x="${PAD.left - 4}" y="${PAD.top + 10}" font-size="10" text-anchor="end">${escapeHtml(format(top))}</text>` +
      `<text x="${PAD.left - 4}" y="${PAD.top + h}" font-size="10" text-anchor="end">${escapeHtml(format(bottom))}</text>` +
      `<text x="${PAD.left}" y="${PAD.top + h + 12}" font-size="10">${time(t0)}</text>` +
      `<text x="${PAD.left + w}" y="${PAD.top + h + 12}" font-size="10" text-anchor="end">${time(t1)} UTC</text>` +
      lines +
      legend +
      `</svg>`,
  );
}
