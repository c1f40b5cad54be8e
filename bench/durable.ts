/**
 * Issue 15's targets for the durable path (every generation goes through its own Durable Object),
 * checked against the path it replaced. That path no longer exists in the app, so the "before"
 * figures are those recorded by the full run at 55f2ad3, the last commit before the durable merge
 * (bench/results/pre-durable.json, copied unchanged from that run's latest.json). Times differ
 * between runs on this shared machine, so each comparison is made relative to the relay (c) of
 * the same run where it can be: the relay did not change, and it absorbs how fast the machine was.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import type { Check } from "./checks.ts";
import type { CpuResult } from "./phases/cpu.ts";
import type { MemoryResult } from "./phases/memory.ts";
import type { SseResult } from "./phases/streaming.ts";
import { ROOT } from "./stack.ts";

/** The subset of a results file these checks read. */
export interface Before {
  commit: string;
  streaming: SseResult[];
  memory: MemoryResult[];
  cpu: CpuResult[];
}

/** The recorded run before the durable merge. */
export function recordedBefore(): Before {
  return JSON.parse(readFileSync(join(ROOT, "bench", "results", "pre-durable.json"), "utf8")) as Before;
}

/** What the issue allows the durable path over the old one. */
export const DURABLE_LIMITS = {
  /** Per SSE event, p99 of the app hop over the relay's p50. */
  sseAddedMs: 5,
  /** The app's CPU per 1 MiB generation ((e) − (c)) over the old path's. */
  cpuOverMs: 1,
  /** Peak RSS growth of 8 concurrent 4 MiB generations over the old path's (run-to-run noise). */
  memoryOverRatio: 1.1,
};

const verdict = (ok: boolean): Check["result"] => (ok ? "pass" : "fail");

/** The app hop's p99 over the relay's p50 of one run, per SSE answer kind. */
function appHop(streaming: SseResult[], kind: string): number | undefined {
  const app = streaming.find((s) => s.kind === kind && s.path === "app");
  const relay = streaming.find((s) => s.kind === kind && s.path === "relay");
  if (!app?.measurable || !relay?.measurable) return undefined;
  return (app.p99 as number) - (relay.p50 as number);
}

function sseChecks(streaming: SseResult[], before: Before): Check[] {
  const out: Check[] = [];
  for (const kind of [...new Set(streaming.filter((s) => s.path === "app").map((s) => s.kind))]) {
    const now = appHop(streaming, kind);
    const then = appHop(before.streaming, kind);
    const target = `Durable path: delay per SSE event of the app hop with its Durable Object, ${kind} (p99 − relay p50)`;
    if (now === undefined) {
      out.push({ target, measured: "not measurable", limit: `≤ ${DURABLE_LIMITS.sseAddedMs} ms`, result: "n/a" });
      continue;
    }
    out.push({
      target,
      measured: `${now.toFixed(2)} ms (before, ${before.commit}: ${then?.toFixed(2) ?? "n/a"} ms)`,
      limit: `≤ ${DURABLE_LIMITS.sseAddedMs} ms`,
      result: verdict(now <= DURABLE_LIMITS.sseAddedMs),
    });
  }
  return out;
}

/** (e) − (c) at 1 MiB: the app's share of workerd's CPU, its Durable Objects included. */
function appShare(cpu: CpuResult[]): { share: number; e: number; c: number } | undefined {
  const e = cpu.find((x) => x.target === "e" && x.answer === "1mb");
  const c = cpu.find((x) => x.target === "c" && x.answer === "1mb");
  if (!e || !c || e.errors) return undefined;
  return { share: e.cpuMsPerRequest - c.cpuMsPerRequest, e: e.cpuMsPerRequest, c: c.cpuMsPerRequest };
}

function cpuCheck(cpu: CpuResult[], before: Before): Check[] {
  const now = appShare(cpu);
  const then = appShare(before.cpu);
  if (!now || !then) return [];
  const limit = then.share + DURABLE_LIMITS.cpuOverMs;
  return [
    {
      target:
        "Durable path: the app's workerd CPU per 1 MiB generation, (e) − relay (c) (handler, Generation object and its storage, rate limiter, no-op bucket)",
      measured: `${now.share.toFixed(2)} ms (${now.e.toFixed(2)} − ${now.c.toFixed(2)}); before, ${before.commit}: ${then.share.toFixed(2)} ms (${then.e.toFixed(2)} − ${then.c.toFixed(2)})`,
      limit: `≤ ${limit.toFixed(2)} ms (before + ${DURABLE_LIMITS.cpuOverMs} ms)`,
      result: verdict(now.share <= limit),
    },
  ];
}

function memoryChecks(memory: MemoryResult[], before: Before): Check[] {
  return memory
    .filter((m) => m.path.startsWith("app"))
    .map((m) => {
      const then = before.memory.find((b) => b.path === m.path && b.reader === m.reader);
      const limit = then ? then.growthMiB * DURABLE_LIMITS.memoryOverRatio : Number.NaN;
      const mib = Math.round((m.imageBytes ?? 0) / 2 ** 20);
      return {
        target: `Durable path: peak RSS growth, ${m.streams} concurrent ${mib} MiB generations, ${m.path.replace("app, ", "")}`,
        measured: `${m.growthMiB.toFixed(1)} MiB (idle ${m.idleMiB.toFixed(1)}, peak ${m.peakMiB.toFixed(1)}); before, ${before.commit}: ${then?.growthMiB.toFixed(1) ?? "n/a"} MiB${m.errors ? `; ${m.errors} failed` : ""}`,
        limit: then ? `≤ ${limit.toFixed(1)} MiB (before + 10 % run-to-run noise)` : "no recorded figure",
        result: then ? verdict(m.growthMiB <= limit && m.errors === 0) : "n/a",
      };
    });
}

/** The durable path against the recorded run before it. */
export function durableChecks(streaming: SseResult[], memory: MemoryResult[], cpu: CpuResult[]): Check[] {
  const before = recordedBefore();
  return [...sseChecks(streaming, before), ...cpuCheck(cpu, before), ...memoryChecks(memory, before)];
}
