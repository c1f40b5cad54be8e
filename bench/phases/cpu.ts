/**
 * CPU: CPU time of the workerd process per request (process CPU / requests), sequential, for
 * answers carrying 1 MiB and 4 MiB images. It counts everything workerd does for a generation:
 * HTTP in and out, the app, the relay, Miniflare's outbound hop and its R2 simulator writing the
 * image, so it is an upper bound on the app's own share; the relay and pass-through paths with
 * the same answer are measured alongside so the difference can be read off.
 */
import type { LoadClient } from "../client/remote.ts";
import type { BenchConfig } from "../config.ts";
import { cpuSeconds, peakRssBytes, resetPeakRss, threadCpuSeconds } from "../proc.ts";
import { percentile } from "../stats.ts";
import type { Target } from "../targets.ts";

export interface CpuResult {
  answer: "1mb" | "4mb";
  target: string;
  label: string;
  requests: number;
  errors: number;
  /** Workerd CPU per request, ms. */
  cpuMsPerRequest: number;
  /** Wall time per request, ms (sequential: this is latency). */
  wallMsPerRequest: number;
  /** Median latency, ms. */
  p50Ms: number;
  /** Where the CPU went, by workerd thread name, ms per request. */
  threads: Record<string, number>;
  peakRssMiB: number;
}

export async function measureCpu(
  client: LoadClient,
  target: Target,
  answer: "1mb" | "4mb",
  workerdPid: number,
  config: BenchConfig,
): Promise<CpuResult> {
  const loop = (maxRequests: number) =>
    client.loop({
      agent: `cpu:${target.id}`,
      spec: target.spec(answer),
      concurrency: config.cpu.concurrency,
      durationMs: 60_000,
      maxRequests,
      timeoutMs: config.requestTimeoutMs,
    });
  await loop(5);
  resetPeakRss(workerdPid);
  const threadsBefore = threadCpuSeconds(workerdPid);
  const before = cpuSeconds(workerdPid);
  const result = await loop(config.cpu.requests[answer]);
  const used = cpuSeconds(workerdPid) - before;
  const threadsAfter = threadCpuSeconds(workerdPid);
  await client.closeAgents();

  const requests = result.latencies.length + result.errors;
  const threads: Record<string, number> = {};
  for (const [name, seconds] of Object.entries(threadsAfter)) {
    const delta = seconds - (threadsBefore[name] ?? 0);
    if (delta > 0) threads[name] = (delta * 1000) / requests;
  }
  return {
    answer,
    target: target.id,
    label: target.label,
    requests,
    errors: result.errors,
    cpuMsPerRequest: (used * 1000) / requests,
    wallMsPerRequest: result.elapsedMs / requests,
    p50Ms: percentile(Float64Array.from(result.latencies).sort(), 50),
    threads,
    peakRssMiB: peakRssBytes(workerdPid) / (1024 * 1024),
  };
}
