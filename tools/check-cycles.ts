/**
 * npm run check:cycles: fails when files under workers/ import each other in a circle (type-only
 * imports included: a type cycle still ties two files' meanings together). Reads relative
 * `import`/`export … from` specifiers with a regex; the workers use no dynamic imports.
 */
import { existsSync, readdirSync, readFileSync } from "node:fs";
import path from "node:path";

const root = path.resolve(import.meta.dirname, "..", "workers");
const IMPORT = /(?:^|\n)\s*(?:import|export)\b[^;]*?\bfrom\s*["'](\.{1,2}\/[^"']+)["']/g;

/** Every .ts file under dir, except the generated binding types. */
function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) return sources(full);
    return entry.name.endsWith(".ts") && !entry.name.endsWith(".d.ts") ? [full] : [];
  });
}

/** The file a relative specifier names: `x.ts`, or `x/index.ts` for a folder. */
function resolve(from: string, spec: string): string | undefined {
  const base = path.resolve(path.dirname(from), spec);
  return [base, `${base}.ts`, path.join(base, "index.ts")].find((f) => f.endsWith(".ts") && existsSync(f));
}

const graph = new Map<string, string[]>();
for (const file of sources(root)) {
  const text = readFileSync(file, "utf8");
  const deps = [...text.matchAll(IMPORT)].map((m) => resolve(file, m[1] as string)).filter((f) => f !== undefined);
  graph.set(file, deps);
}

// Depth-first search; a back edge to a file still on the stack closes a cycle.
const cycles: string[][] = [];
const state = new Map<string, "open" | "done">();
function visit(file: string, stack: string[]): void {
  state.set(file, "open");
  for (const dep of graph.get(file) ?? []) {
    if (state.get(dep) === "open") cycles.push([...stack.slice(stack.indexOf(dep)), dep]);
    else if (!state.has(dep)) visit(dep, [...stack, dep]);
  }
  state.set(file, "done");
}
for (const file of graph.keys()) if (!state.has(file)) visit(file, [file]);

const rel = (f: string) => path.relative(path.dirname(root), f);
for (const cycle of cycles) console.error(`import cycle: ${cycle.map(rel).join(" -> ")}`);
console.log(`${graph.size} files under workers/, ${cycles.length} import cycle(s)`);
process.exit(cycles.length > 0 ? 1 : 0);
