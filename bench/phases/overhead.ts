/**
 * Overhead: latency and throughput of each target at each concurrency. Targets are measured
 * interleaved, in short rounds whose order rotates, so that a slow moment of the machine falls on
 * all of them alike; ratios are taken both from the pooled samples and round by round.
 */
import type { LoadClient } from "../client/remote.ts";
import type { BenchConfig } from "../config.ts";
import { cpuSnapshot } from "../proc.ts";
import { type LatencySummary, summarize } from "../stats.ts";
import type { Target, TargetId } from "../targets.ts";

export interface OverheadCell extends LatencySummary {
  answer: string;
  target: TargetId;
  label: string;
  concurrency: number;
  /** Per round, for paired ratios. */
  roundP50: number[];
  roundRps: number[];
  /** Share of one core each process used while this target ran (1 = a whole core). */
  cpu: Record<string, number>;
  firstError?: string;
}

interface Pool {
  latencies: number[];
  errors: number;
  elapsedMs: number;
  roundP50: number[];
  roundRps: number[];
  cpu: Record<string, number>;
  firstError?: string;
}

export async function measureOverhead(
  client: LoadClient,
  list: Target[],
  answer: string,
  config: BenchConfig,
  pids: Record<string, number>,
  log: (line: string) => void,
): Promise<OverheadCell[]> {
  const cells: OverheadCell[] = [];
  for (const concurrency of config.concurrencies) {
    const pools = new Map<TargetId, Pool>(
      list.map((t) => [t.id, { latencies: [], errors: 0, elapsedMs: 0, roundP50: [], roundRps: [], cpu: {} }]),
    );
    const run = (target: Target, durationMs: number) =>
      client.loop({
        agent: `${target.id}:${concurrency}`,
        spec: target.spec(answer),
        concurrency,
        durationMs,
        maxRequests: config.maxRequestsPerRound,
        timeoutMs: config.requestTimeoutMs,
      });

    // Warm-up opens the connections and lets V8 optimise; its samples are dropped.
    for (const target of list) await run(target, config.warmupMs);

    for (let round = 0; round < config.rounds; round++) {
      for (let i = 0; i < list.length; i++) {
        const target = list[(i + round) % list.length] as Target;
        const pool = pools.get(target.id) as Pool;
        const before = cpuSnapshot(pids);
        const result = await run(target, config.roundMs);
        const after = cpuSnapshot(pids);
        for (const name of Object.keys(pids)) {
          pool.cpu[name] = (pool.cpu[name] ?? 0) + ((after[name] ?? 0) - (before[name] ?? 0));
        }
        for (const latency of result.latencies) pool.latencies.push(latency);
        pool.errors += result.errors;
        pool.elapsedMs += result.elapsedMs;
        pool.firstError ??= result.firstError;
        const roundSummary = summarize(Array.from(result.latencies), result.elapsedMs);
        pool.roundP50.push(roundSummary.p50);
        pool.roundRps.push(roundSummary.rps);
      }
    }
    await client.closeAgents();

    for (const target of list) {
      const pool = pools.get(target.id) as Pool;
      const summary = summarize(pool.latencies, pool.elapsedMs, pool.errors);
      const cpu = Object.fromEntries(Object.entries(pool.cpu).map(([k, v]) => [k, v / (pool.elapsedMs / 1000)]));
      cells.push({
        ...summary,
        answer,
        target: target.id,
        label: target.label,
        concurrency,
        roundP50: pool.roundP50,
        roundRps: pool.roundRps,
        cpu,
        firstError: pool.firstError,
      });
      const errors = pool.errors ? `  ${pool.errors} errors (${pool.firstError})` : "";
      log(
        `  ${answer} c=${String(concurrency).padStart(2)} (${target.id}) ${target.label.padEnd(13)} p50 ${summary.p50.toFixed(2)} ms  p99 ${summary.p99.toFixed(2)} ms  ${summary.rps.toFixed(0)} req/s  workerd ${Math.round((cpu.workerd ?? 0) * 100)}%${errors}`,
      );
    }
  }
  return cells;
}
