/**
 * Memory: peak RSS of the workerd process while several 25 MiB answers pass through a worker at
 * once, against its RSS at rest just before. A worker that streams stays flat; one that buffers
 * grows by the bodies in flight. Readers either drain as fast as they can, or slowly, which is
 * where a proxy without backpressure piles bytes up.
 */
import type { LoadClient, RequestSpec } from "../client/remote.ts";
import type { BenchConfig } from "../config.ts";
import { peakRssBytes, resetPeakRss, rssBytes, sampleRss } from "../proc.ts";

export interface MemoryResult {
  path: string;
  reader: "fast" | "slow";
  streams: number;
  bytesEach: number;
  /** The image each generation carried, when the path is the app (its answers are small). */
  imageBytes?: number;
  /** RSS at rest just before (mean of samples), MiB. */
  idleMiB: number;
  /** Highest RSS seen while the streams ran (sampled, and VmHWM when it could be reset), MiB. */
  peakMiB: number;
  growthMiB: number;
  seconds: number;
  errors: number;
}

const MIB = 1024 * 1024;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export async function measureMemory(
  client: LoadClient,
  path: string,
  spec: RequestSpec,
  reader: "fast" | "slow",
  workerdPid: number,
  config: BenchConfig,
): Promise<MemoryResult> {
  await sleep(200);
  const idle = sampleRss(workerdPid, 10);
  await sleep(config.memory.idleMs);
  const idleSample = idle.stop();

  const hwmReset = resetPeakRss(workerdPid);
  const busy = sampleRss(workerdPid, 2);
  const started = Date.now();
  const rate = reader === "slow" ? config.memory.slowBytesPerSecond : undefined;
  const sizes = await client.drain(spec, config.memory.streams, rate, 120_000);
  const seconds = (Date.now() - started) / 1000;
  const busySample = busy.stop();
  const peak = Math.max(busySample.max, hwmReset ? peakRssBytes(workerdPid) : 0, rssBytes(workerdPid));
  return {
    path,
    reader,
    streams: config.memory.streams,
    bytesEach: sizes.find((s) => s > 0) ?? 0,
    idleMiB: idleSample.mean / MIB,
    peakMiB: peak / MIB,
    growthMiB: (peak - idleSample.mean) / MIB,
    seconds,
    errors: sizes.filter((s) => s < 0).length,
  };
}
