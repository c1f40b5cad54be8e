/**
 * `npm run bench:ab -- --paths=b,c --answer=small`: workerd CPU per request for a few paths,
 * measured in interleaved rounds of sequential requests. CPU time is much steadier than latency
 * on a shared machine, so this is the quick check while tuning a path; `npm run bench` remains
 * the measurement of record. `--relay-variant=dist/variant/relay/src/index.ts --paths=b,c,v` adds
 * another build of the relay as path v, in the same workerd. Load goes only to loopback.
 */
import { fileURLToPath } from "node:url";
import { spawnChild } from "./child.ts";
import { spawnLoadClient } from "./client/remote.ts";
import { cpuSeconds } from "./proc.ts";
import { startBenchStack } from "./stack.ts";
import { percentile } from "./stats.ts";
import { streamed, tuningTargets } from "./targets.ts";

const arg = (name: string, fallback: string) =>
  process.argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3) ?? fallback;
const ids = arg("paths", "b,c").split(",");
const answer = arg("answer", "small");
const rounds = Number(arg("rounds", "20"));
const perRound = Number(arg("requests", "400"));
const concurrency = Number(arg("concurrency", "1"));

const upstream = await spawnChild<string>(fileURLToPath(new URL("./upstream/main.ts", import.meta.url)));
const client = await spawnLoadClient();
const variantEntry = process.argv.find((a) => a.startsWith("--relay-variant="))?.slice("--relay-variant=".length);
const appVariantEntry = process.argv.find((a) => a.startsWith("--app-variant="))?.slice("--app-variant=".length);
const stack = await startBenchStack(upstream.ready, { relayVariantEntry: variantEntry, appVariantEntry });
try {
  const urls = { upstream: upstream.ready, ...stack.urls };
  const stream = process.argv.includes("--stream");
  const list = tuningTargets(urls)
    .filter((t) => ids.includes(t.id))
    .map((t) => (stream ? { ...t, spec: (a: string) => streamed(t.spec(a)) } : t));
  const perTarget = new Map<string, { cpu: number[]; wall: number[] }>(list.map((t) => [t.id, { cpu: [], wall: [] }]));
  const loop = (id: string, spec: ReturnType<(typeof list)[number]["spec"]>, maxRequests: number) =>
    client.loop({ agent: `ab:${id}`, spec, concurrency, durationMs: 120_000, maxRequests, timeoutMs: 30_000 });
  for (const t of list) await loop(t.id, t.spec(answer), 300);
  for (let round = 0; round < rounds; round++) {
    for (let i = 0; i < list.length; i++) {
      const t = list[(i + round) % list.length] as (typeof list)[number];
      const before = cpuSeconds(stack.workerdPid);
      const result = await loop(t.id, t.spec(answer), perRound);
      const used = cpuSeconds(stack.workerdPid) - before;
      const n = result.latencies.length + result.errors;
      if (result.errors) console.log(`  (${t.id}) ${result.errors} errors: ${result.firstError}`);
      perTarget.get(t.id)?.cpu.push((used * 1000) / n);
      perTarget.get(t.id)?.wall.push(result.elapsedMs / n);
    }
  }
  const median = (xs: number[]) => percentile(Float64Array.from(xs).sort(), 50);
  // Ratios are taken round by round (each round runs every path back to back), then the median:
  // a slow spell of the machine then moves both sides of a ratio alike.
  const base = perTarget.get(list[0]?.id ?? "") as { cpu: number[]; wall: number[] };
  const pairedRatio = (xs: number[], ys: number[]) => median(xs.map((x, i) => x / (ys[i] ?? Number.NaN)));
  for (const t of list) {
    const m = perTarget.get(t.id) as { cpu: number[]; wall: number[] };
    console.log(
      `(${t.id}) ${t.label.padEnd(20)} ${answer} c=${concurrency}: workerd CPU ${median(m.cpu).toFixed(3)} ms/req (×${pairedRatio(m.cpu, base.cpu).toFixed(2)}), wall ${median(m.wall).toFixed(3)} ms/req (×${pairedRatio(m.wall, base.wall).toFixed(2)})`,
    );
  }
} finally {
  await Promise.allSettled([stack.stop(), client.stop(), upstream.stop()]);
}
