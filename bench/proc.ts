/**
 * Process metrics from Linux /proc: the workerd child's RSS (now and peak) and CPU time, and the
 * same for the bench's other processes, so the report can say which one a figure is bound by.
 */
import { spawnSync } from "node:child_process";
import { readdirSync, readFileSync, writeFileSync } from "node:fs";

const PAGE_BYTES = Number(spawnSync("getconf", ["PAGESIZE"], { encoding: "utf8" }).stdout.trim()) || 4096;
const CLOCK_TICKS = Number(spawnSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).stdout.trim()) || 100;

/** Fields of /proc/<pid>/stat after the command name (which may contain spaces). */
function statFields(path: string): string[] {
  const text = readFileSync(path, "utf8");
  return text.slice(text.lastIndexOf(")") + 2).split(" ");
}

/** The first child of `parent` whose command line contains `needle`. */
export function findChildProcess(
  parent: number,
  needle: string,
  skip: ReadonlySet<number> = new Set(),
): number | undefined {
  return childProcesses(parent, needle).find((pid) => !skip.has(pid));
}

/** Every child of `parent` whose command line contains `needle`. */
export function childProcesses(parent: number, needle: string): number[] {
  const out: number[] = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      // Field 4 of stat is the parent pid; it is index 1 after the command name.
      if (Number(statFields(`/proc/${entry}/stat`)[1]) !== parent) continue;
      if (readFileSync(`/proc/${entry}/cmdline`, "utf8").includes(needle)) out.push(Number(entry));
    } catch {
      // The process ended while we looked.
    }
  }
  return out;
}

/** User + system CPU seconds the process has used, all threads (10 ms resolution). */
export function cpuSeconds(pid: number): number {
  const fields = statFields(`/proc/${pid}/stat`);
  // utime and stime are fields 14 and 15 of stat: indexes 11 and 12 after the command name.
  return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS;
}

/** CPU seconds per thread, by thread name, to see which of workerd's threads did the work. */
export function threadCpuSeconds(pid: number): Record<string, number> {
  const out: Record<string, number> = {};
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    try {
      const name = readFileSync(`/proc/${pid}/task/${tid}/comm`, "utf8").trim();
      const fields = statFields(`/proc/${pid}/task/${tid}/stat`);
      out[name] = (out[name] ?? 0) + (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS;
    } catch {
      // The thread ended while we looked.
    }
  }
  return out;
}

/** Resident set size now, from statm (cheap enough to sample every few milliseconds). */
export function rssBytes(pid: number): number {
  return Number(readFileSync(`/proc/${pid}/statm`, "utf8").split(" ")[1]) * PAGE_BYTES;
}

/** Peak resident set size (VmHWM) since start or since the last resetPeakRss. */
export function peakRssBytes(pid: number): number {
  const match = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
  return match ? Number(match[1]) * 1024 : 0;
}

/** Resets VmHWM to the current RSS (Linux >= 4.0). False when the kernel refuses. */
export function resetPeakRss(pid: number): boolean {
  try {
    writeFileSync(`/proc/${pid}/clear_refs`, "5");
    return true;
  } catch {
    return false;
  }
}

export interface RssSample {
  min: number;
  max: number;
  mean: number;
  samples: number;
}

/** Samples a process's RSS on a timer; stop() returns what it saw. */
export function sampleRss(pid: number, intervalMs = 2): { stop(): RssSample } {
  let min = Number.POSITIVE_INFINITY;
  let max = 0;
  let sum = 0;
  let samples = 0;
  const take = () => {
    const rss = rssBytes(pid);
    min = Math.min(min, rss);
    max = Math.max(max, rss);
    sum += rss;
    samples++;
  };
  take();
  const timer = setInterval(take, intervalMs);
  return {
    stop: () => {
      clearInterval(timer);
      take();
      return { min, max, mean: sum / samples, samples };
    },
  };
}

/** CPU seconds of several processes, to turn into utilisation over a measured interval. */
export function cpuSnapshot(pids: Record<string, number>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [name, pid] of Object.entries(pids)) out[name] = pid === process.pid ? ownCpuSeconds() : cpuSeconds(pid);
  return out;
}

function ownCpuSeconds(): number {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1e6;
}

/** CPU seconds the whole machine has been busy (all processes, all cores), from /proc/stat. */
export function machineBusySeconds(): number {
  const fields = readFileSync("/proc/stat", "utf8").split("\n")[0]?.trim().split(/\s+/).slice(1).map(Number) ?? [];
  // user nice system idle iowait irq softirq steal: everything but idle and iowait is busy.
  const [user = 0, nice = 0, system = 0, , , irq = 0, softirq = 0, steal = 0] = fields;
  return (user + nice + system + irq + softirq + steal) / CLOCK_TICKS;
}
