/**
 * How much the bench does. The full run takes four to five minutes on 2 cores; `--quick` is a
 * smoke run of a few seconds per phase that exercises every code path with tiny numbers;
 * `--only=streaming,cpu` runs some phases (the report then has only their checks), and
 * `--paths=b,c --answers=small --concurrencies=16` narrows the overhead phase (for A/B runs while tuning).
 */
export const PHASES = ["memory", "streaming", "overhead", "cpu", "queue"] as const;
export type Phase = (typeof PHASES)[number];

export interface BenchConfig {
  quick: boolean;
  /** Phases to run (`--only=cpu,streaming`); all by default. */
  phases: Phase[];
  /** Overhead paths to measure (`--paths=b,c`); a-d by default. */
  paths: string[];
  concurrencies: number[];
  /** Answers measured in the overhead phase: per-request cost (small) and a 1 MiB image. */
  payloads: Array<"small" | "1mb">;
  /** Rounds per concurrency; in each round every target runs once, in a rotated order. */
  rounds: number;
  roundMs: number;
  warmupMs: number;
  /** Cap on requests per round and target, whatever the time left. */
  maxRequestsPerRound: number;
  requestTimeoutMs: number;
  sse: { streams: number; events: number; gapMs: number };
  memory: { streams: number; idleMs: number; slowBytesPerSecond: number };
  cpu: { requests: Record<"1mb" | "4mb", number>; concurrency: number };
  /** Fair queue (bench/queue.ts): interleaved rounds of c=1 requests per build, generations per limit case. */
  queue: { rounds: number; perRound: number; generations: number };
  /** Whole run; phases still to come are skipped past it. */
  budgetMs: number;
}

export function benchConfig(argv: string[]): BenchConfig {
  const quick = argv.includes("--quick");
  const only = argv.find((a) => a.startsWith("--only="))?.slice("--only=".length);
  const phases = only ? PHASES.filter((p) => only.split(",").includes(p)) : [...PHASES];
  const listArg = (name: string) =>
    argv
      .find((a) => a.startsWith(`--${name}=`))
      ?.slice(name.length + 3)
      .split(",");
  const paths = listArg("paths") ?? ["a", "b", "c", "d"];
  const answers = listArg("answers");
  const concurrencies = (all: number[]) => listArg("concurrencies")?.map(Number) ?? all;
  const payloadsFrom = (all: Array<"small" | "1mb">) => all.filter((p) => !answers || answers.includes(p));
  return quick
    ? {
        quick,
        phases,
        paths,
        concurrencies: concurrencies([1, 16]),
        payloads: payloadsFrom(["small", "1mb"]),
        rounds: 1,
        roundMs: 300,
        warmupMs: 100,
        maxRequestsPerRound: 2000,
        requestTimeoutMs: 30_000,
        sse: { streams: 3, events: 3, gapMs: 10 },
        memory: { streams: 2, idleMs: 300, slowBytesPerSecond: 50e6 },
        cpu: { requests: { "1mb": 10, "4mb": 5 }, concurrency: 1 },
        queue: { rounds: 2, perRound: 10, generations: 12 },
        budgetMs: 90_000,
      }
    : {
        quick,
        phases,
        paths,
        concurrencies: concurrencies([1, 16, 64]),
        payloads: payloadsFrom(["small", "1mb"]),
        rounds: 6,
        roundMs: 700,
        warmupMs: 300,
        maxRequestsPerRound: 20_000,
        requestTimeoutMs: 30_000,
        // 360 partial events a path, so that p99 is not simply the slowest event (as of 80 it is).
        sse: { streams: 40, events: 10, gapMs: 20 },
        memory: { streams: 8, idleMs: 1000, slowBytesPerSecond: 10e6 },
        cpu: { requests: { "1mb": 200, "4mb": 60 }, concurrency: 1 },
        queue: { rounds: 8, perRound: 60, generations: 30 },
        budgetMs: 8 * 60_000,
      };
}
