import { readdirSync, readFileSync, statSync } from "node:fs";
import path from "node:path";

import { expect } from "chai";

import { ROOT } from "../helpers/processes.js";

const SRC = path.join(ROOT, "src");

/** Every .ts file under `dir`. */
function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const full = path.join(dir, name);
    if (statSync(full).isDirectory()) return sources(full);
    return name.endsWith(".ts") ? [full] : [];
  });
}

/**
 * The modules `file` loads when it is loaded: static relative imports and
 * re-exports, without `import type` / `export type` (erased, never loaded).
 * Dynamic `import()` is left out: it runs later, so it cannot close a cycle
 * at load time.
 */
function imports(file: string): string[] {
  const text = readFileSync(file, "utf8");
  const found: string[] = [];
  const pattern = /^(?:import|export)\s+(type\s+)?(?:[^'";]*?\s+from\s+)?["'](\.{1,2}\/[^"']+)["'];?/gms;
  for (const match of text.matchAll(pattern)) {
    if (match[1] !== undefined) continue;
    const target = path.resolve(path.dirname(file), match[2]!.replace(/\.js$/, ".ts"));
    if (target.startsWith(SRC)) found.push(target);
  }
  return found;
}

const FILES = sources(SRC);
const GRAPH = new Map(FILES.map((file) => [file, imports(file)]));
const rel = (file: string): string => path.relative(SRC, file);

describe("architecture: how src/ fits together", function () {
  it("finds the modules and their imports", function () {
    expect(FILES.length).to.be.greaterThan(40);
    expect(GRAPH.get(path.join(SRC, "cli.ts"))).to.include(path.join(SRC, "chain", "command.ts"));
  });

  it("has no import cycle", function () {
    const cycles: string[] = [];
    const state = new Map<string, "open" | "done">();
    const stack: string[] = [];
    const visit = (file: string): void => {
      state.set(file, "open");
      stack.push(file);
      for (const next of GRAPH.get(file) ?? []) {
        if (state.get(next) === "open") cycles.push([...stack.slice(stack.indexOf(next)), next].map(rel).join(" → "));
        else if (state.get(next) === undefined) visit(next);
      }
      stack.pop();
      state.set(file, "done");
    };
    for (const file of FILES) if (!state.has(file)) visit(file);
    expect(cycles, cycles.join("\n")).to.deep.equal([]);
  });

  it("keeps parts apart: a part imports only its own folder, chain/, store/ and errors.ts", function () {
    const shared = new Set(["chain", "store"]);
    const crossings: string[] = [];
    for (const [file, targets] of GRAPH) {
      const part = rel(file).split(path.sep)[0]!;
      for (const target of targets) {
        const targetPart = rel(target).split(path.sep)[0]!;
        if (targetPart === part || targetPart === "errors.ts" || shared.has(targetPart)) continue;
        // The entries assemble the parts, and so does the demo, which tells one story across all of them.
        if (part === "cli.ts" || part === "services.ts" || part === "demo") continue;
        crossings.push(`${rel(file)} → ${rel(target)}`);
      }
    }
    expect(crossings, crossings.join("\n")).to.deep.equal([]);
  });
});
