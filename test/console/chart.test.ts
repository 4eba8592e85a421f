/**
 * The console's inline SVG chart: the value axis from 0 for counts, fitted to
 * the values for large figures, so a bank's reserve moving by 0.01 % is a
 * visible slope rather than a flat line; labels escaped.
 */
import { expect } from "chai";

import { lineChart, valueAxis } from "../../src/console/chart.js";

/** The y of each point of the chart's one polyline. */
function ys(svg: string): number[] {
  const points = /<polyline [^>]*points="([^"]+)"/.exec(svg)?.[1];
  expect(points, svg).to.be.a("string");
  return points!.split(" ").map((pair) => Number(pair.split(",")[1]));
}

const at = (second: number) => new Date(Date.UTC(2026, 11, 6, 12, 0, second));

describe("console: the line chart", function () {
  it("draws the value axis from 0 by default, and fitted to the values' range when asked", function () {
    expect(valueAxis([5, 10], "zero")).to.deep.equal([0, 11]);
    expect(valueAxis([0, 0], "zero")).to.deep.equal([0, 1]);
    expect(valueAxis([100, 110], "fit")).to.deep.equal([99, 111]);
    expect(valueAxis([50, 50], "fit")).to.deep.equal([49.5, 50.5]);
    expect(valueAxis([0, 0], "fit")).to.deep.equal([-1, 1]);
  });

  it("shows a 0.01 % move of a large figure across the plot on a fitted axis, not on one from 0", function () {
    const series = [
      {
        label: "reserve",
        colour: "#000",
        points: [
          { at: at(0), value: 50_000_000 },
          { at: at(30), value: 49_995_000 },
        ],
      },
    ];
    const format = (v: number) => v.toFixed(0);
    const fitted = ys(String(lineChart("reserve", series, format, { axis: "fit" })));
    const zero = ys(String(lineChart("reserve", series, format)));
    expect(fitted[1]! - fitted[0]!, "fitted: the fall spans most of the plot").to.be.greaterThan(100);
    expect(zero[1]! - zero[0]!, "from 0: under a pixel").to.be.lessThan(1);
    expect(String(lineChart("reserve", series, format, { axis: "fit" }))).to.include(">49994500<");
  });

  it("escapes its title and labels", function () {
    const svg = String(
      lineChart(
        "<script>alert(1)</script>",
        [{ label: '"><img src=x>', colour: "#000", points: [{ at: at(0), value: 1 }] }],
        String,
      ),
    );
    expect(svg).to.not.include("<script>").and.to.not.include("<img");
    expect(svg).to.include("&#60;script&#62;");
  });
});
