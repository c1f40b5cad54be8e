/**
 * `npm run bench:profile -- --path=c --answer=small --requests=2000`: where a path's CPU goes.
 * Starts the bench stack with workerd's inspector open, samples every worker's isolate with V8's
 * CPU profiler while sequential requests run, then prints each isolate's busy time per request
 * and its heaviest functions by self time (ours and the runtime's built-ins alike). The profiles
 * are written to dist/bench/profiles/*.cpuprofile for Chrome DevTools. Load goes only to loopback.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { spawnChild } from "./child.ts";
import { assertLoopback } from "./client/http.ts";
import { ROOT, startBenchStack } from "./stack.ts";
import { streamed, tuningTargets } from "./targets.ts";

const arg = (name: string, fallback: string) =>
  process.argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3) ?? fallback;
const pathId = arg("path", "c");
const answer = arg("answer", "small");
const requests = Number(arg("requests", "1000"));
const top = Number(arg("top", "25"));
const INSPECTOR_PORT = Number(arg("inspector-port", "9329"));

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number; columnNumber: number };
  children?: number[];
}
interface Profile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

/** A minimal Chrome DevTools Protocol session over the inspector's WebSocket. */
async function connect(url: string) {
  const ws = new WebSocket(url);
  await new Promise((resolve, reject) => {
    ws.addEventListener("open", resolve, { once: true });
    ws.addEventListener("error", reject, { once: true });
  });
  let nextId = 1;
  const pending = new Map<number, (result: unknown) => void>();
  ws.addEventListener("message", (event) => {
    const message = JSON.parse(String(event.data)) as { id?: number; result?: unknown };
    if (message.id !== undefined) pending.get(message.id)?.(message.result);
  });
  return {
    send<T>(method: string, params: Record<string, unknown> = {}): Promise<T> {
      const id = nextId++;
      ws.send(JSON.stringify({ id, method, params }));
      return new Promise((resolve) => pending.set(id, resolve as (r: unknown) => void));
    },
    close: () => ws.close(),
  };
}

/** Self time (ms) by function, and the time the isolate was not idle. */
function summarise(profile: Profile) {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const self = new Map<string, number>();
  let busy = 0;
  for (let i = 0; i < profile.samples.length; i++) {
    const node = byId.get(profile.samples[i] ?? -1) as ProfileNode;
    const ms = (profile.timeDeltas[i + 1] ?? 0) / 1000;
    const { functionName, url, lineNumber } = node.callFrame;
    if (functionName === "(idle)" || functionName === "(program)") continue;
    busy += ms;
    const file = url.split("/").pop() ?? "";
    const key = `${functionName || "(anonymous)"} ${file ? `${file}:${lineNumber + 1}` : ""}`;
    self.set(key, (self.get(key) ?? 0) + ms);
  }
  return { busy, self: [...self.entries()].sort((a, b) => b[1] - a[1]) };
}

const upstream = await spawnChild<string>(fileURLToPath(new URL("./upstream/main.ts", import.meta.url)));
const relayVariantEntry = process.argv.find((a) => a.startsWith("--relay-variant="))?.slice("--relay-variant=".length);
const appVariantEntry = process.argv.find((a) => a.startsWith("--app-variant="))?.slice("--app-variant=".length);
const stack = await startBenchStack(upstream.ready, {
  inspectorPort: INSPECTOR_PORT,
  relayVariantEntry,
  appVariantEntry,
});
try {
  const urls = { upstream: upstream.ready, ...stack.urls };
  const target = tuningTargets(urls).find((t) => t.id === pathId);
  if (!target) throw new Error(`unknown --path=${pathId} (a, b, c, d or e)`);
  const spec = process.argv.includes("--stream") ? streamed(target.spec(answer)) : target.spec(answer);
  assertLoopback(spec.url);
  const once = async () => {
    const res = await fetch(spec.url, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: spec.body,
    });
    await res.arrayBuffer();
    if (!res.ok) throw new Error(`${spec.url} answered ${res.status}`);
  };
  for (let i = 0; i < Math.min(200, requests); i++) await once();

  const list = (await (await fetch(`http://127.0.0.1:${INSPECTOR_PORT}/json`)).json()) as Array<{
    title: string;
    webSocketDebuggerUrl: string;
  }>;
  const sessions = await Promise.all(
    list.map(async (t) => ({ title: t.title, session: await connect(t.webSocketDebuggerUrl) })),
  );
  for (const { session } of sessions) {
    await session.send("Profiler.enable");
    await session.send("Profiler.setSamplingInterval", { interval: Number(arg("interval-us", "200")) });
    await session.send("Profiler.start");
  }
  const t0 = performance.now();
  for (let i = 0; i < requests; i++) await once();
  const wallMs = performance.now() - t0;

  const outDir = join(ROOT, "dist", "bench", "profiles");
  mkdirSync(outDir, { recursive: true });
  console.log(
    `path (${pathId}) ${target.label}, answer ${answer}: ${requests} requests, ${(wallMs / requests).toFixed(3)} ms each (wall, sequential)`,
  );
  for (const { title, session } of sessions) {
    const { profile } = await session.send<{ profile: Profile }>("Profiler.stop");
    session.close();
    const { busy, self } = summarise(profile);
    if (busy / requests < 0.005) continue;
    const name = title.replace(/[^a-z0-9-]+/gi, "_");
    writeFileSync(join(outDir, `${name}-${pathId}-${answer}.cpuprofile`), JSON.stringify(profile));
    console.log(`\n${title}: ${(busy / requests).toFixed(3)} ms busy per request`);
    for (const [fn, ms] of self.slice(0, top)) {
      console.log(`  ${((ms / requests) * 1000).toFixed(1).padStart(8)} µs  ${fn}`);
    }
  }
} finally {
  await stack.stop();
  await upstream.stop();
}
