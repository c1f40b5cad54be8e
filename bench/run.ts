/**
 * `npm run bench`: what the relay and the app cost, measured beside a direct call and a naive
 * pass-through Worker, in one run on this machine. Three processes besides workerd: this one
 * (Miniflare's host, orchestration, /proc readings), the upstream, and the load generator.
 * Phases: memory (first, on a fresh workerd), streaming, overhead, CPU, queue (queue.ts). Writes bench/results/
 * and the README summary. `--quick` is a smoke run. Not part of `npm test`.
 */
import { loadavg } from "node:os";
import { fileURLToPath } from "node:url";
import { checks, ratios } from "./checks.ts";
import { spawnChild } from "./child.ts";
import { spawnLoadClient } from "./client/remote.ts";
import { benchConfig, type Phase } from "./config.ts";
import { durableChecks } from "./durable.ts";
import { type CpuResult, measureCpu } from "./phases/cpu.ts";
import { type MemoryResult, measureMemory } from "./phases/memory.ts";
import { measureOverhead, type OverheadCell } from "./phases/overhead.ts";
import { measureStream, type SsePath, type SseResult } from "./phases/streaming.ts";
import { cpuSnapshot, machineBusySeconds, rssBytes } from "./proc.ts";
import { measureQueue, type QueueResult, queueChecks } from "./queue.ts";
import { writeReport } from "./report.ts";
import { describeMachine, machine, workersCommit } from "./results.ts";
import { startBenchStack } from "./stack.ts";
import { markdown } from "./tables.ts";
import { appBody, GENERATIONS, nullR2Target, openAIBody, type Target, targets } from "./targets.ts";
import { IMAGE_BYTES } from "./upstream/answers.ts";

const config = benchConfig(process.argv.slice(2));
const started = Date.now();
const log = (line: string) => console.log(line);

log(`bench: ${describeMachine(machine())}${config.quick ? " (quick)" : ""}`);
const upstream = await spawnChild<string>(fileURLToPath(new URL("./upstream/main.ts", import.meta.url)));
const client = await spawnLoadClient();
const stack = await startBenchStack(upstream.ready).catch(async (err: unknown) => {
  await Promise.allSettled([client.stop(), upstream.stop()]);
  throw err;
});
const stopAll = async () => {
  await Promise.allSettled([stack.stop(), client.stop(), upstream.stop()]);
};
process.once("SIGINT", () => {
  stopAll().finally(() => process.exit(130));
});

const urls = { upstream: upstream.ready, ...stack.urls };
const allTargets = targets(urls);
const list = allTargets.filter((t) => config.paths.includes(t.id));
const byId = (id: string) => allTargets.find((t) => t.id === id) as Target;
const pids = { workerd: stack.workerdPid, upstream: upstream.pid, loadgen: client.pid, bench: process.pid };

const overhead: OverheadCell[] = [];
const streaming: SseResult[] = [];
const memory: MemoryResult[] = [];
const cpu: CpuResult[] = [];
const skipped: string[] = [];
let queue: QueueResult | undefined;
/** Workerd's RSS after start-up and after each phase, MiB: shows what a phase leaves behind. */
const rssAfter: Record<string, number> = {};
/** Cores' worth of CPU used by processes outside the bench during each phase (noise). */
const otherLoad: Record<string, number> = {};
const noteRss = (when: string) => {
  rssAfter[when] = Math.round((rssBytes(stack.workerdPid) / 2 ** 20) * 10) / 10;
};

/** Runs a phase unless the run's time budget is spent. */
async function phase(name: Phase, body: () => Promise<void>): Promise<void> {
  if (!config.phases.includes(name)) return;
  if (Date.now() - started > config.budgetMs) {
    skipped.push(`${name}: time budget of ${config.budgetMs / 1000} s spent`);
    log(`${name}: skipped (time budget)`);
    return;
  }
  const t0 = Date.now();
  const ours0 = Object.values(cpuSnapshot(pids)).reduce((a, b) => a + b, 0);
  const machine0 = machineBusySeconds();
  log(`${name}...`);
  await body();
  noteRss(name);
  // CPU the rest of the machine used meanwhile: other work competing for the same cores.
  const ours = Object.values(cpuSnapshot(pids)).reduce((a, b) => a + b, 0) - ours0;
  const seconds = (Date.now() - t0) / 1000;
  otherLoad[name] = Math.max(0, Math.round(((machineBusySeconds() - machine0 - ours) / seconds) * 100) / 100);
  log(`${name}: ${seconds.toFixed(1)} s, workerd RSS ${rssAfter[name]} MiB, other processes ${otherLoad[name]} cores`);
}

const ssePaths: SsePath[] = [
  { id: "direct", label: "direct", spec: (d) => ({ url: urls.upstream + GENERATIONS, body: openAIBody(d) }) },
  {
    id: "pass-through",
    label: "pass-through",
    previous: "direct",
    spec: (d) => ({ url: urls.passthrough + GENERATIONS, body: openAIBody(d) }),
  },
  {
    id: "relay",
    label: "relay",
    previous: "direct",
    spec: (d) => ({ url: urls.relay + GENERATIONS, body: openAIBody(d) }),
  },
  // Measurable once the app streams ("stream": true); before that it refuses the field.
  {
    id: "app",
    label: "app → relay",
    previous: "relay",
    spec: (d) => ({ url: `${urls.app}/api/generate/image`, body: appBody(d, { stream: true }) }),
  },
];

function logMemory(m: MemoryResult): MemoryResult {
  log(
    `  ${m.path} ${m.reader}: idle ${m.idleMiB.toFixed(1)} MiB, peak ${m.peakMiB.toFixed(1)} MiB (+${m.growthMiB.toFixed(1)}) in ${m.seconds.toFixed(1)} s${m.errors ? `, ${m.errors} failed` : ""}`,
  );
  return m;
}

try {
  // A few requests on every path, so that "idle" below means warm and at rest.
  for (const target of list) {
    for (const answer of ["small", "1mb"]) {
      await client.loop({
        agent: "warm",
        spec: target.spec(answer),
        concurrency: 1,
        durationMs: 5000,
        maxRequests: 3,
        timeoutMs: 30_000,
      });
    }
  }
  await client.closeAgents();
  noteRss("warm-up");

  await phase("memory", async () => {
    const paths = [
      ["relay", urls.relay],
      ["pass-through", urls.passthrough],
    ] as const;
    // The same load through each path once first: the first burst of large answers grows
    // workerd's buffer pools (~17 MiB here, whichever path it goes through), which is not the
    // cost of a path.
    for (const [, base] of paths) {
      await client.drain(
        { url: base + GENERATIONS, body: openAIBody("25mb") },
        config.memory.streams,
        undefined,
        120_000,
      );
    }
    for (const [path, base] of paths) {
      for (const reader of ["fast", "slow"] as const) {
        const spec = { url: base + GENERATIONS, body: openAIBody("25mb") };
        memory.push(logMemory(await measureMemory(client, path, spec, reader, stack.workerdPid, config)));
      }
    }
    // The app holds each image while it decodes and stores it: what that costs, JSON and
    // streamed (final event only), on the app without the R2 simulator (path e). Each in a fresh
    // workerd: V8 keeps a heap it has grown, so a second burst in the same process shows little.
    const appPaths = [
      ["app, JSON", appBody("4mb")],
      ["app, streamed", appBody("sse-4mb events=1 gap=0", { stream: true })],
    ] as const;
    for (const [path, body] of appPaths) {
      const fresh = await startBenchStack(upstream.ready);
      try {
        const url = `${fresh.urls.appNullR2}/api/generate/image`;
        await client.loop({
          agent: "warm",
          spec: { url, body: appBody("small") },
          concurrency: 1,
          durationMs: 5000,
          maxRequests: 3,
          timeoutMs: 30_000,
        });
        const m = await measureMemory(client, path, { url, body }, "fast", fresh.workerdPid, config);
        memory.push(logMemory({ ...m, imageBytes: IMAGE_BYTES["4mb"] }));
      } finally {
        await fresh.stop();
      }
    }
  });

  await phase("streaming", async () => {
    for (const kind of ["sse-small", "sse-image"]) {
      for (const path of ssePaths) {
        const s = await measureStream(client, path, kind, urls.upstream, config);
        streaming.push(s);
        log(
          s.measurable
            ? `  ${kind} ${path.label}: p50 ${s.p50} ms, p99 ${s.p99} ms, max ${s.max} ms`
            : `  ${kind} ${path.label}: not measurable (${s.reason})`,
        );
      }
    }
  });

  await phase("overhead", async () => {
    for (const answer of config.payloads) {
      overhead.push(...(await measureOverhead(client, list, answer, config, pids, log)));
    }
  });

  await phase("cpu", async () => {
    for (const answer of ["1mb", "4mb"] as const) {
      for (const target of [byId("d"), nullR2Target(urls), byId("c"), byId("b")]) {
        const c = await measureCpu(client, target, answer, stack.workerdPid, config);
        cpu.push(c);
        log(
          `  ${answer} (${c.target}) ${c.label}: ${c.cpuMsPerRequest.toFixed(2)} ms CPU/req, ${c.wallMsPerRequest.toFixed(2)} ms wall/req${c.errors ? `, ${c.errors} errors` : ""}`,
        );
      }
    }
  });

  await phase("queue", async () => {
    queue = await measureQueue(client, urls.upstream, config.queue);
    for (const c of queueChecks(queue)) log(`  ${c.target}: ${c.measured}`);
  });
} finally {
  await stopAll();
}

const results = {
  startedAt: new Date(started).toISOString(),
  commit: workersCommit(),
  seconds: (Date.now() - started) / 1000,
  machine: machine(),
  config,
  overhead,
  ratios: ratios(overhead),
  streaming,
  memory,
  cpu,
  queue,
  checks: [
    ...checks(overhead, streaming, memory, cpu),
    ...durableChecks(streaming, memory, cpu),
    ...queueChecks(queue),
  ],
  rssAfter,
  otherLoad,
  loadAverage: loadavg().map((v) => Math.round(v * 100) / 100),
  skipped,
};
const written = writeReport(results);
log("");
log(markdown(results));
log(`written: ${written.map((p) => p.replace(`${process.cwd()}/`, "")).join(", ")}`);
