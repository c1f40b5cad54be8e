/**
 * The issue's targets, checked against one run's numbers. A check is pass, fail, or n/a when the
 * thing it measures does not exist yet. Lines starting with "…" are diagnostics that explain the
 * check above them.
 */
import type { CpuResult } from "./phases/cpu.ts";
import type { MemoryResult } from "./phases/memory.ts";
import type { OverheadCell } from "./phases/overhead.ts";
import type { SseResult } from "./phases/streaming.ts";
import { median, round } from "./stats.ts";

export interface Check {
  target: string;
  measured: string;
  limit: string;
  result: "pass" | "fail" | "n/a";
}

export interface Ratio {
  answer: string;
  concurrency: number;
  /** Pooled over all rounds: relay (c) over pass-through (b), and over direct (a). */
  p50_cb: number;
  p99_cb: number;
  rps_cb: number;
  p50_ca: number;
  p99_ca: number;
  rps_ca: number;
  /** Median of the per-round ratios: less sensitive to one noisy round. */
  roundMedian_p50_cb: number;
  roundMedian_rps_cb: number;
}

const cell = (cells: OverheadCell[], answer: string, c: number, target: string) =>
  cells.find((x) => x.answer === answer && x.concurrency === c && x.target === target);

const perRound = (num: number[], den: number[]) => median(num.map((v, i) => v / (den[i] as number)));

export function ratios(cells: OverheadCell[]): Ratio[] {
  const out: Ratio[] = [];
  for (const answer of [...new Set(cells.map((c) => c.answer))]) {
    for (const concurrency of [...new Set(cells.map((c) => c.concurrency))]) {
      const [a, b, c] = ["a", "b", "c"].map((t) => cell(cells, answer, concurrency, t));
      if (!a || !b || !c) continue;
      out.push({
        answer,
        concurrency,
        p50_cb: round(c.p50 / b.p50),
        p99_cb: round(c.p99 / b.p99),
        rps_cb: round(c.rps / b.rps),
        p50_ca: round(c.p50 / a.p50),
        p99_ca: round(c.p99 / a.p99),
        rps_ca: round(c.rps / a.rps),
        roundMedian_p50_cb: round(perRound(c.roundP50, b.roundP50)),
        roundMedian_rps_cb: round(perRound(c.roundRps, b.roundRps)),
      });
    }
  }
  return out;
}

const verdict = (ok: boolean): Check["result"] => (ok ? "pass" : "fail");
const list = (rs: Ratio[], pick: (r: Ratio) => number) =>
  rs.map((r) => `c=${r.concurrency}: ${pick(r).toFixed(2)}`).join(", ");
const answerName = (answer: string) => (answer === "small" ? "small answer" : `${answer.replace("mb", " MiB")} image`);

function overheadChecks(cells: OverheadCell[]): Check[] {
  const out: Check[] = [];
  const rs = ratios(cells);
  for (const answer of [...new Set(rs.map((r) => r.answer))]) {
    const these = rs.filter((r) => r.answer === answer);
    const name = answerName(answer);
    out.push(
      {
        target: `Relay p50 / pass-through p50, ${name}`,
        measured: list(these, (r) => r.p50_cb),
        limit: "≤ 1.10 at every c",
        result: verdict(these.every((r) => r.p50_cb <= 1.1)),
      },
      {
        target: `Relay p99 / pass-through p99, ${name}`,
        measured: list(these, (r) => r.p99_cb),
        limit: "≤ 1.10 at every c",
        result: verdict(these.every((r) => r.p99_cb <= 1.1)),
      },
      {
        target: `Relay req/s / pass-through req/s, ${name}`,
        measured: list(these, (r) => r.rps_cb),
        limit: "≥ 0.90 at every c",
        result: verdict(these.every((r) => r.rps_cb >= 0.9)),
      },
    );
  }
  for (const answer of [...new Set(cells.map((c) => c.answer))]) {
    const c = cell(cells, answer, 1, "c");
    const d = cell(cells, answer, 1, "d");
    if (!c || !d) continue;
    const gap = d.p50 - c.p50;
    out.push({
      target: `App path (d) p50 − relay (c) p50 at c=1, ${answerName(answer)}`,
      measured: `${gap.toFixed(2)} ms (${d.p50.toFixed(2)} − ${c.p50.toFixed(2)})`,
      limit: "≤ 2 ms",
      result: verdict(gap <= 2),
    });
  }
  return out;
}

function streamingChecks(streaming: SseResult[]): Check[] {
  const out: Check[] = [];
  for (const hop of streaming.filter((s) => s.previous !== undefined && s.path !== "pass-through")) {
    const before = streaming.find((s) => s.kind === hop.kind && s.path === hop.previous);
    const name = hop.path === "app" ? "app" : hop.label;
    const target = `SSE delay added by the ${name} hop, ${hop.kind} (p99 − ${hop.previous} p50)`;
    if (!hop.measurable || !before?.measurable) {
      const reason = hop.measurable ? `${hop.previous} not measurable` : hop.reason;
      out.push({ target, measured: `not yet measurable: ${reason}`, limit: "≤ 5 ms", result: "n/a" });
      continue;
    }
    const added = (hop.p99 as number) - (before.p50 as number);
    const max = (hop.max as number) - (before.p50 as number);
    out.push({
      target,
      measured: `${added.toFixed(2)} ms (max ${max.toFixed(2)} ms)`,
      limit: "≤ 5 ms",
      result: verdict(added <= 5),
    });
  }
  return out;
}

function memoryChecks(memory: MemoryResult[]): Check[] {
  return memory
    .filter((m) => m.path === "relay")
    .map((m) => ({
      target: `Peak RSS growth, ${m.streams} × ${Math.round(m.bytesEach / 2 ** 20)} MiB through the relay, ${m.reader} readers`,
      measured: `${m.growthMiB.toFixed(1)} MiB (idle ${m.idleMiB.toFixed(1)}, peak ${m.peakMiB.toFixed(1)})${m.errors ? `, ${m.errors} failed` : ""}`,
      limit: "≤ 30 MiB",
      result: verdict(m.growthMiB <= 30 && m.errors === 0),
    }));
}

function cpuChecks(cpu: CpuResult[]): Check[] {
  const out: Check[] = [];
  const find = (target: string) => cpu.find((x) => x.target === target && x.answer === "1mb");
  const [app, own, relay] = [find("d"), find("e"), find("c")];
  if (app) {
    out.push({
      target: "Workerd CPU per app generation, 1 MiB image (whole process: app, relay, R2 simulator, HTTP)",
      measured: `${app.cpuMsPerRequest.toFixed(2)} ms`,
      limit: "well under 10 ms (≤ 5 ms)",
      result: verdict(app.cpuMsPerRequest <= 5 && app.errors === 0),
    });
  }
  // Diagnostics: the same path without what only local runs have (Miniflare's R2 simulator and
  // its asset router), then the app's share once the relay's own cost is taken off.
  if (own) {
    out.push({
      target: "… the same without the local-only layers (e: no-op bucket, no asset router; app, relay, HTTP)",
      measured: `${own.cpuMsPerRequest.toFixed(2)} ms`,
      limit: "well under 10 ms (≤ 5 ms)",
      result: verdict(own.cpuMsPerRequest <= 5 && own.errors === 0),
    });
  }
  if (own && relay) {
    const share = own.cpuMsPerRequest - relay.cpuMsPerRequest;
    out.push({
      target:
        "… the app's share: (e) − relay (c), 1 MiB image (the app, its rate-limit Durable Object, the no-op bucket's RPC)",
      measured: `${share.toFixed(2)} ms (${own.cpuMsPerRequest.toFixed(2)} − ${relay.cpuMsPerRequest.toFixed(2)})`,
      limit: "well under 10 ms (≤ 5 ms)",
      result: verdict(share <= 5 && own.errors === 0),
    });
  }
  if (own && relay) {
    const gap = own.p50Ms - relay.p50Ms;
    out.push({
      target: "… and its p50 − relay (c) p50 at c=1, 1 MiB image (sequential, CPU phase)",
      measured: `${gap.toFixed(2)} ms (${own.p50Ms.toFixed(2)} − ${relay.p50Ms.toFixed(2)})`,
      limit: "≤ 2 ms",
      result: verdict(gap <= 2),
    });
  }
  return out;
}

export function checks(
  cells: OverheadCell[],
  streaming: SseResult[],
  memory: MemoryResult[],
  cpu: CpuResult[],
): Check[] {
  return [...overheadChecks(cells), ...streamingChecks(streaming), ...memoryChecks(memory), ...cpuChecks(cpu)];
}
