/** Latency summaries. Percentiles are nearest-rank on the sorted samples. */

export interface LatencySummary {
  count: number;
  errors: number;
  p50: number;
  p90: number;
  p99: number;
  mean: number;
  max: number;
  /** Completed requests per second of measured time. */
  rps: number;
}

export function percentile(sorted: ArrayLike<number>, p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1] as number;
}

/** Summarises latencies (ms) measured over `elapsedMs` of wall time. */
export function summarize(latencies: number[], elapsedMs: number, errors = 0): LatencySummary {
  const sorted = Float64Array.from(latencies).sort();
  const sum = latencies.reduce((a, b) => a + b, 0);
  return {
    count: latencies.length,
    errors,
    p50: percentile(sorted, 50),
    p90: percentile(sorted, 90),
    p99: percentile(sorted, 99),
    mean: latencies.length ? sum / latencies.length : Number.NaN,
    max: latencies.length ? (sorted[sorted.length - 1] as number) : Number.NaN,
    rps: elapsedMs > 0 ? (latencies.length * 1000) / elapsedMs : 0,
  };
}

export function median(values: number[]): number {
  return percentile(Float64Array.from(values).sort(), 50);
}

/** Rounds for tables and JSON: 3 significant decimals are more than loopback timing supports. */
export function round(value: number, digits = 3): number {
  if (!Number.isFinite(value)) return value;
  const f = 10 ** digits;
  return Math.round(value * f) / f;
}
