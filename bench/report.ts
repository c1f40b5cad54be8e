/**
 * Writes one run's results: latest.json (everything), latest.md (the tables), latency.svg (the
 * chart), and the summary block of every README that has the bench markers.
 */
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import { latencyChart } from "./chart.ts";
import { PHASES } from "./config.ts";
import { type BenchResults, describeMachine } from "./results.ts";
import { ROOT } from "./stack.ts";
import { checksTable, markdown, noisy, overheadTable } from "./tables.ts";

const RESULTS = join(ROOT, "bench", "results");
const READMES = [join(ROOT, "README.md"), join(ROOT, "bench", "README.md")];
const START = "<!-- bench:latest:start -->";
const END = "<!-- bench:latest:end -->";

function readmeBlock(r: BenchResults, readme: string): string {
  const rel = relative(dirname(readme), RESULTS) || ".";
  return [
    START,
    `Latest run: ${r.startedAt} (workers at ${r.commit}), on ${describeMachine(r.machine)}${noisy(r) ? ", while other work used part of the machine (see latest.md)" : ""}.`,
    `Full tables: [${rel}/latest.md](${rel}/latest.md), raw numbers: [${rel}/latest.json](${rel}/latest.json).`,
    "",
    `![latency by concurrency](${rel}/latency.svg)`,
    "",
    checksTable(r.checks),
    "",
    overheadTable(r.overhead),
    END,
  ].join("\n");
}

function writeAtomic(path: string, text: string): void {
  writeFileSync(`${path}.tmp`, text);
  renameSync(`${path}.tmp`, path);
}

/**
 * A full run replaces bench/results/latest.* and the README blocks. A quick or partial run
 * (--quick, --only) writes to dist/bench/results/ instead, so it never replaces published numbers.
 */
export function writeReport(r: BenchResults): string[] {
  const full = !r.config.quick && r.config.phases.length === PHASES.length;
  const dir = full ? RESULTS : join(ROOT, "dist", "bench", "results");
  mkdirSync(dir, { recursive: true });
  const written = [join(dir, "latest.json"), join(dir, "latest.md"), join(dir, "latency.svg")];
  writeAtomic(written[0] as string, `${JSON.stringify(r, null, 2)}\n`);
  writeAtomic(written[1] as string, markdown(r));
  if (r.overhead.length > 0) {
    writeAtomic(written[2] as string, latencyChart(r.overhead, `${r.startedAt} · ${describeMachine(r.machine)}`));
  } else {
    written.pop();
  }
  for (const readme of full ? READMES : []) {
    if (!existsSync(readme)) continue;
    const text = readFileSync(readme, "utf8");
    const start = text.indexOf(START);
    const end = text.indexOf(END);
    if (start < 0 || end < start) continue;
    writeAtomic(readme, text.slice(0, start) + readmeBlock(r, readme) + text.slice(end + END.length));
    written.push(readme);
  }
  return written;
}
