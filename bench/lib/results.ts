import { mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

/** Folder the benchmarks write their JSON figures into. */
export const RESULTS_DIR = path.join(path.dirname(fileURLToPath(import.meta.url)), "..", "results");

export interface GasRow {
  readonly contract: string;
  readonly operation: string;
  readonly gas: number;
}

/** Seconds since `from`, a `process.hrtime.bigint()` reading. */
export const seconds = (from: bigint): number => Number(process.hrtime.bigint() - from) / 1e9;

/** `value` rounded to `digits` decimals, for a figure in a result file. */
export const round = (value: number, digits = 1): number => Number(value.toFixed(digits));

/** Writes `value` as pretty JSON to `bench/results/<file>` and returns the path. */
export function writeResult(file: string, value: unknown): string {
  mkdirSync(RESULTS_DIR, { recursive: true });
  const target = path.join(RESULTS_DIR, file);
  writeFileSync(target, `${JSON.stringify(value, null, 2)}\n`);
  return target;
}

/**
 * A markdown table with one row per operation and one column per contract, in
 * the order the rows first name them. A missing figure shows as `—`.
 */
export function gasTable(rows: readonly GasRow[]): string {
  const contracts = [...new Set(rows.map((row) => row.contract))];
  const operations = [...new Set(rows.map((row) => row.operation))];
  const figure = new Map(rows.map((row) => [`${row.contract}\u0000${row.operation}`, row.gas]));
  const lines = [
    `| operation | ${contracts.join(" | ")} |`,
    `|---|${contracts.map(() => "---:").join("|")}|`,
    ...operations.map((operation) => {
      const cells = contracts.map((contract) => {
        const gas = figure.get(`${contract}\u0000${operation}`);
        return gas === undefined ? "—" : gas.toLocaleString("en-US");
      });
      return `| ${operation} | ${cells.join(" | ")} |`;
    }),
  ];
  return lines.join("\n");
}
