/** The shape of one run's results, and the machine it ran on. */

import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { cpus, release, totalmem } from "node:os";
import { join } from "node:path";
import type { Check, Ratio } from "./checks.ts";
import type { BenchConfig } from "./config.ts";
import type { CpuResult } from "./phases/cpu.ts";
import type { MemoryResult } from "./phases/memory.ts";
import type { OverheadCell } from "./phases/overhead.ts";
import type { SseResult } from "./phases/streaming.ts";
import { ROOT } from "./stack.ts";

/** The commit the workers were built from, "+dirty" when workers/ had uncommitted changes. */
export function workersCommit(): string {
  const git = (args: string[]) => spawnSync("git", args, { cwd: ROOT, encoding: "utf8" }).stdout?.trim() ?? "";
  const head = git(["rev-parse", "--short", "HEAD"]) || "unknown";
  return git(["status", "--porcelain", "--", "workers", "wrangler.toml"]) ? `${head}+dirty` : head;
}

export interface Machine {
  cpu: string;
  cores: number;
  memoryGiB: number;
  kernel: string;
  node: string;
  workerd: string;
  miniflare: string;
}

export interface BenchResults {
  startedAt: string;
  /** See workersCommit(). */
  commit: string;
  seconds: number;
  machine: Machine;
  config: BenchConfig;
  overhead: OverheadCell[];
  ratios: Ratio[];
  streaming: SseResult[];
  memory: MemoryResult[];
  cpu: CpuResult[];
  checks: Check[];
  rssAfter: Record<string, number>;
  /** Cores' worth of CPU that other processes used during each phase. */
  otherLoad: Record<string, number>;
  /** 1, 5 and 15 minute load averages at the end of the run. */
  loadAverage: number[];
  skipped: string[];
}

function packageVersion(name: string): string {
  try {
    return JSON.parse(readFileSync(join(ROOT, "node_modules", name, "package.json"), "utf8")).version;
  } catch {
    return "unknown";
  }
}

export function machine(): Machine {
  return {
    cpu: cpus()[0]?.model ?? "unknown",
    cores: cpus().length,
    memoryGiB: Math.round(totalmem() / 2 ** 30),
    kernel: `Linux ${release()}`,
    node: process.version,
    workerd: packageVersion("workerd"),
    miniflare: packageVersion("miniflare"),
  };
}

export const describeMachine = (m: Machine) =>
  `${m.cpu}, ${m.cores} cores, ${m.memoryGiB} GiB, ${m.kernel}, Node ${m.node}, workerd ${m.workerd}, Miniflare ${m.miniflare}`;
