/** One run's results as Markdown tables (latest.md, the console, the README block). */
import type { Check, Ratio } from "./checks.ts";
import type { CpuResult } from "./phases/cpu.ts";
import type { MemoryResult } from "./phases/memory.ts";
import type { OverheadCell } from "./phases/overhead.ts";
import type { SseResult } from "./phases/streaming.ts";
import { type BenchResults, describeMachine } from "./results.ts";

const f = (v: number | undefined, digits = 2) => (v === undefined || !Number.isFinite(v) ? "–" : v.toFixed(digits));
const pct = (v: number | undefined) => (v === undefined ? "–" : `${Math.round(v * 100)}%`);
const answerName = (a: string) => (a === "small" ? "small (281 B)" : `${a.replace("mb", " MiB")} image`);

function table(head: string[], rows: string[][]): string {
  return [
    `| ${head.join(" | ")} |`,
    `|${head.map(() => "---").join("|")}|`,
    ...rows.map((r) => `| ${r.join(" | ")} |`),
  ].join("\n");
}

export function checksTable(checks: Check[]): string {
  const mark = { pass: "✅ pass", fail: "❌ fail", "n/a": "➖ n/a" };
  return table(
    ["Target", "Measured", "Limit", "Result"],
    checks.map((c) => [c.target, c.measured, c.limit, mark[c.result]]),
  );
}

export function overheadTable(cells: OverheadCell[]): string {
  return table(
    [
      "Answer",
      "c",
      "Path",
      "p50 ms",
      "p90 ms",
      "p99 ms",
      "req/s",
      "errors",
      "CPU workerd / upstream / loadgen / bench",
    ],
    cells.map((c) => [
      answerName(c.answer),
      String(c.concurrency),
      `(${c.target}) ${c.label}`,
      f(c.p50),
      f(c.p90),
      f(c.p99),
      f(c.rps, 0),
      String(c.errors),
      `${pct(c.cpu.workerd)} / ${pct(c.cpu.upstream)} / ${pct(c.cpu.loadgen)} / ${pct(c.cpu.bench)}`,
    ]),
  );
}

function ratiosTable(rs: Ratio[]): string {
  return table(
    [
      "Answer",
      "c",
      "p50 c/b",
      "p99 c/b",
      "req/s c/b",
      "p50 c/a",
      "p99 c/a",
      "req/s c/a",
      "per-round median p50 c/b, req/s c/b",
    ],
    rs.map((r) => [
      answerName(r.answer),
      String(r.concurrency),
      f(r.p50_cb),
      f(r.p99_cb),
      f(r.rps_cb),
      f(r.p50_ca),
      f(r.p99_ca),
      f(r.rps_ca),
      `${f(r.roundMedian_p50_cb)}, ${f(r.roundMedian_rps_cb)}`,
    ]),
  );
}

function streamingTable(rows: SseResult[]): string {
  return table(
    ["Events", "Path", "partial events", "p50 ms", "p99 ms", "max ms", "final event p50 ms"],
    rows.map((s) =>
      s.measurable
        ? [s.kind, s.label, String(s.events), f(s.p50), f(s.p99), f(s.max), f(s.finalP50)]
        : [s.kind, s.label, "not yet measurable", s.reason ?? "", "", "", ""],
    ),
  );
}

function memoryTable(rows: MemoryResult[]): string {
  return table(
    ["Path", "Readers", "Streams × size", "idle RSS MiB", "peak RSS MiB", "growth MiB", "seconds", "errors"],
    rows.map((m) => [
      m.path,
      m.reader,
      m.imageBytes
        ? `${m.streams} × ${f(m.imageBytes / 2 ** 20, 1)} MiB image`
        : `${m.streams} × ${f(m.bytesEach / 2 ** 20, 1)} MiB`,
      f(m.idleMiB, 1),
      f(m.peakMiB, 1),
      f(m.growthMiB, 1),
      f(m.seconds, 1),
      String(m.errors),
    ]),
  );
}

function cpuTable(rows: CpuResult[]): string {
  return table(
    ["Image", "Path", "requests", "workerd CPU ms/req", "p50 ms", "wall ms/req", "by thread, ms/req", "peak RSS MiB"],
    rows.map((c) => [
      c.answer.replace("mb", " MiB"),
      `(${c.target}) ${c.label}`,
      String(c.requests),
      f(c.cpuMsPerRequest),
      f(c.p50Ms),
      f(c.wallMsPerRequest),
      Object.entries(c.threads)
        .map(([name, ms]) => `${name}: ${f(ms)}`)
        .join("; "),
      f(c.peakRssMiB, 1),
    ]),
  );
}

/** Other processes took more than a quarter of a core in some phase. */
export const noisy = (r: BenchResults) => Object.values(r.otherLoad).some((v) => v > 0.25);

export function markdown(r: BenchResults): string {
  return [
    "# Benchmark: the relay and the app beside the alternatives",
    "",
    `Run ${r.startedAt} in ${r.seconds.toFixed(0)} s, workers at commit ${r.commit}${r.config.quick ? " (**--quick smoke run: numbers are not meaningful**)" : ""}.`,
    `Machine: ${describeMachine(r.machine)}.`,
    `Other processes used ${Object.entries(r.otherLoad)
      .map(([k, v]) => `${v} cores during ${k}`)
      .join(
        ", ",
      )} (load average ${r.loadAverage.join(" ")} at the end).${noisy(r) ? " **The machine was busy with other work: tail latencies and ratios are noisy; rerun on a quiet machine before relying on them.**" : ""}`,
    "Paths: (a) direct to the bench upstream, (b) a 10-line pass-through Worker, (c) the relay, (d) app → relay → upstream, image decoded and stored to R2. All workers in one workerd process through Miniflare, load on loopback.",
    "",
    "![latency by concurrency](latency.svg)",
    "",
    "## Targets",
    "",
    checksTable(r.checks),
    "",
    "## Overhead",
    "",
    overheadTable(r.overhead),
    "",
    "CPU columns: share of one core used by workerd, the upstream process, the load generator and the bench process (Miniflare's host, which parses workerd's log lines) while the path ran.",
    "",
    ratiosTable(r.ratios),
    "",
    "## Streaming (SSE): upstream's first byte of an event → client receives it",
    "",
    streamingTable(r.streaming),
    "",
    "Partial events measure streaming. Through the app, the final event also waits for the image to be decoded and stored.",
    "",
    "## Memory: workerd RSS while large answers stream through",
    "",
    memoryTable(r.memory),
    "",
    "App rows: concurrent generations through the app with the no-op bucket (path e), each row in a fresh workerd, so the growth includes the first burst's buffer pools and the bucket's RPC copy of each image (production R2 takes the bytes natively). Streamed: the final event only, no partial images.",
    "",
    "## CPU per generation (workerd process CPU / requests, sequential)",
    "",
    cpuTable(r.cpu),
    "",
    "(e) is the app with IMAGES bound to a bucket that keeps nothing: the difference to (d) is Miniflare's local R2 simulator, which does not run on the worker's CPU in production.",
    "",
    `Workerd RSS after each phase, MiB: ${Object.entries(r.rssAfter)
      .map(([k, v]) => `${k} ${v}`)
      .join(", ")}.`,
    "",
    ...(r.skipped.length ? ["## Skipped", "", ...r.skipped.map((s) => `- ${s}`), ""] : []),
  ].join("\n");
}

/** The block a README carries between the bench markers; links are relative to that README. */
