/**
 * Issue 16's two bench targets for the fair queue. Its cost when nobody waits: p50 at c=1 of a
 * small generation through the app (set up as e) against a build of the same tree whose
 * generations ask the Dispatcher nothing (`firstTurn` answers granted, `reportPending`
 * reports nothing), served beside it in one workerd, in interleaved rounds. Its accuracy under a limit:
 * generations at concurrency 10 against an upstream that notes when each call arrives and answers
 * OpenAI's rate-limit 429 past the limit, once with `OPENAI_IMAGES_PER_MINUTE` set and once
 * unset (the queue learns the limit from the 429s); the most calls in any trailing window.
 */
import { cpSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Check } from "./checks.ts";
import type { LoadClient } from "./client/remote.ts";
import { ROOT, startBenchStack } from "./stack.ts";
import { percentile, round } from "./stats.ts";
import { appBody } from "./targets.ts";

/** Issue 16: the admission step may add at most this to p50; calls per window never above it. */
export const QUEUE_LIMITS = { admissionMs: 1, limit: 5, windowS: 2 };

export interface QueueResult {
  /** p50 at c=1, small answer: with the dispatcher and without it; their pooled sample counts. */
  p50WithMs: number;
  p50WithoutMs: number;
  samples: number;
  accuracy: AccuracyResult[];
}

export interface AccuracyResult {
  mode: "configured" | "learned";
  generations: number;
  errors: number;
  firstError?: string;
  /** Calls that reached the upstream, and how many of them it answered 429. */
  calls: number;
  rejected: number;
  /** Most calls in any trailing window (after the first 429 when the limit is learned). */
  maxPerWindow: number;
  seconds: number;
}

const VARIANT = join(ROOT, "dist", "bench", "noqueue");

/** Copies the app and patches generations/turn.ts so that no generation calls the Dispatcher. */
function buildNoQueueVariant(): string {
  rmSync(VARIANT, { recursive: true, force: true });
  mkdirSync(join(VARIANT, "workers"), { recursive: true });
  for (const dir of ["app", "shared"])
    cpSync(join(ROOT, "workers", dir), join(VARIANT, "workers", dir), { recursive: true });
  const file = join(VARIANT, "workers", "app", "src", "generations", "turn.ts");
  const patches: Array<[string, string]> = [
    [
      "return retried(() => queueOf(env).enter(record.id, record.spec.client, imagesOf(record))).catch(() => undefined);",
      "return Promise.resolve({ granted: true } as EnterResult);",
    ],
    // The report owed after the end (reportPending): dropped, never sent.
    ["  if (!report) return true;\n", "  if (report) delete record.report;\n  return true;\n"],
  ];
  let text = readFileSync(file, "utf8");
  for (const [from, to] of patches) {
    if (!text.includes(from)) throw new Error(`bench/queue.ts: turn.ts changed, cannot patch: ${from.slice(0, 60)}`);
    text = text.replace(from, to);
  }
  writeFileSync(file, text);
  return "dist/bench/noqueue/workers/app/src/index.ts";
}

/** The most arrivals in any trailing window, counting only windows that start at or after `from`. */
export function maxPerWindow(times: number[], windowMs: number, from = Number.NEGATIVE_INFINITY): number {
  let most = 0;
  for (const end of times) {
    if (end - windowMs < from) continue;
    most = Math.max(most, times.filter((t) => t > end - windowMs && t <= end).length);
  }
  return most;
}

async function arrivals(upstream: string): Promise<Array<{ ms: number; status: number }>> {
  const answer = await fetch(`${upstream}/_bench/arrivals`);
  return ((await answer.json()) as { arrivals: Array<{ ms: number; status: number }> }).arrivals;
}

async function accuracy(
  client: LoadClient,
  upstream: string,
  mode: AccuracyResult["mode"],
  generations: number,
): Promise<AccuracyResult> {
  const { limit, windowS } = QUEUE_LIMITS;
  const vars: Record<string, string> = { QUEUE_WINDOW_S: String(windowS) };
  if (mode === "configured") vars.OPENAI_IMAGES_PER_MINUTE = String(limit);
  const stack = await startBenchStack(upstream, { appVars: vars });
  try {
    await arrivals(upstream);
    const t0 = Date.now();
    const result = await client.loop({
      agent: `queue:${mode}`,
      spec: {
        url: `${stack.urls.app}/api/generate/image`,
        body: appBody(`small limit=${limit} window=${windowS * 1000}`),
      },
      concurrency: 10,
      durationMs: 60_000,
      maxRequests: generations,
      timeoutMs: 60_000,
    });
    const seen = await arrivals(upstream);
    const firstRejected = seen.find((a) => a.status === 429)?.ms;
    const from = mode === "learned" && firstRejected !== undefined ? firstRejected : Number.NEGATIVE_INFINITY;
    return {
      mode,
      generations,
      errors: result.errors,
      ...(result.firstError ? { firstError: result.firstError } : {}),
      calls: seen.length,
      rejected: seen.filter((a) => a.status === 429).length,
      maxPerWindow: maxPerWindow(
        seen.map((a) => a.ms),
        windowS * 1000,
        from,
      ),
      seconds: (Date.now() - t0) / 1000,
    };
  } finally {
    await stack.stop();
  }
}

/** Both measurements, each in a workerd of its own (the dispatcher's state starts empty). */
export async function measureQueue(
  client: LoadClient,
  upstream: string,
  opts: { rounds: number; perRound: number; generations: number },
): Promise<QueueResult> {
  const stack = await startBenchStack(upstream, { appVariantEntry: buildNoQueueVariant() });
  const pooled = { with: [] as number[], without: [] as number[] };
  try {
    const paths = [
      ["with", stack.urls.appNullR2],
      ["without", stack.urls.appVariant as string],
    ] as const;
    const loop = (name: string, base: string, maxRequests: number) =>
      client.loop({
        agent: `queue:${name}`,
        spec: { url: `${base}/api/generate/image`, body: appBody("small") },
        concurrency: 1,
        durationMs: 30_000,
        maxRequests,
        timeoutMs: 30_000,
      });
    for (const [name, base] of paths) await loop(name, base, 20);
    for (let r = 0; r < opts.rounds; r++) {
      for (let i = 0; i < paths.length; i++) {
        const [name, base] = paths[(i + r) % paths.length] as (typeof paths)[number];
        const result = await loop(name, base, opts.perRound);
        pooled[name].push(...result.latencies);
      }
    }
  } finally {
    await stack.stop();
  }
  const p50 = (xs: number[]) => round(percentile(Float64Array.from(xs).sort(), 50));
  const accuracyResults: AccuracyResult[] = [];
  for (const mode of ["configured", "learned"] as const) {
    accuracyResults.push(await accuracy(client, upstream, mode, opts.generations));
  }
  return {
    p50WithMs: p50(pooled.with),
    p50WithoutMs: p50(pooled.without),
    samples: Math.min(pooled.with.length, pooled.without.length),
    accuracy: accuracyResults,
  };
}

/** The issue's two queue targets as checks. */
export function queueChecks(q: QueueResult | undefined): Check[] {
  if (!q) return [];
  const added = q.p50WithMs - q.p50WithoutMs;
  const { limit, windowS, admissionMs } = QUEUE_LIMITS;
  return [
    {
      target:
        "Fair queue with nobody waiting: p50 of (e) − p50 of the same app asking the Dispatcher nothing, small answer, c=1",
      measured: `${added.toFixed(2)} ms (${q.p50WithMs.toFixed(2)} − ${q.p50WithoutMs.toFixed(2)}, ${q.samples} requests each)`,
      limit: `≤ ${admissionMs} ms`,
      result: added <= admissionMs ? "pass" : "fail",
    },
    ...q.accuracy.map(
      (a): Check => ({
        target: `Fair queue: most upstream calls in any ${windowS} s window, ${a.generations} generations at c=10, limit ${a.mode === "configured" ? `set (OPENAI_IMAGES_PER_MINUTE=${limit}, QUEUE_WINDOW_S=${windowS})` : "unset, learned from the upstream's 429s (windows after the first)"}`,
        measured: `${a.maxPerWindow} (${a.calls} calls, ${a.rejected} answered 429; ${a.errors} client errors; ${a.seconds.toFixed(1)} s)`,
        limit: `≤ ${limit}`,
        result: a.maxPerWindow <= limit && a.errors === 0 ? "pass" : "fail",
      }),
    ),
  ];
}
