/**
 * `npm run bench:fresh-object`: workerd CPU per call to a brand-new SQLite-backed Durable Object
 * against a call to one that exists, with and without a write, in alternating rounds. Every
 * generation runs in an object of its own (issue 15), so this is the floor of what that choice
 * costs per generation here; the rest of the durable path is measured by `bench:ab`. Nothing
 * leaves the process: the worker is called through Miniflare's dispatchFetch.
 */
import { fileURLToPath } from "node:url";
import { convertV4MiniflareOptions, Miniflare, type V4WorkerOptions } from "miniflare";
import { childProcesses, cpuSeconds } from "./proc.ts";
import { percentile } from "./stats.ts";

const CALLS = 1000;
const ROUNDS = Number(process.argv.find((a) => a.startsWith("--rounds="))?.slice(9) ?? "6");
const worker = fileURLToPath(new URL("workers/fresh-object.js", import.meta.url));

const mf = new Miniflare(
  convertV4MiniflareOptions({
    workers: [
      {
        name: "fresh-object",
        modules: true,
        scriptPath: worker,
        compatibilityDate: "2026-11-01",
        durableObjects: { PROBE: { className: "Probe", useSQLite: true } },
      } as V4WorkerOptions,
    ],
  }),
);
await mf.ready;
const workerd = childProcesses(process.pid, "workerd");
const cpu = () => workerd.reduce((sum, pid) => sum + cpuSeconds(pid), 0);

const cases = [
  { name: "existing object, no write", query: "fresh=0&write=0" },
  { name: "existing object, one write", query: "fresh=0&write=1" },
  { name: "new object, no write", query: "fresh=1&write=0" },
  { name: "new object, one write", query: "fresh=1&write=1" },
];
const perCall: Record<string, number[]> = Object.fromEntries(cases.map((c) => [c.name, []]));
for (let round = 0; round < ROUNDS; round++) {
  for (const c of round % 2 ? [...cases].reverse() : cases) {
    const before = cpu();
    const res = await mf.dispatchFetch(`http://localhost/?${c.query}&n=${CALLS}`);
    await res.text();
    perCall[c.name]?.push(((cpu() - before) * 1000) / CALLS);
  }
}
await mf.dispose();
console.log(`workerd CPU per call, median of ${ROUNDS} rounds × ${CALLS} calls:`);
for (const c of cases)
  console.log(
    `  ${c.name.padEnd(28)} ${percentile(
      [...(perCall[c.name] ?? [])].sort((a, b) => a - b),
      50,
    ).toFixed(3)} ms`,
  );
