/**
 * `npm run build:dry`: both workers bundled as `wrangler deploy --dry-run` would upload them, into
 * dist/check/relay and dist/check/app. The output folders are passed as absolute paths: wrangler
 * resolves a relative --outdir against the config file's folder, so the relay's bundle would land
 * under workers/relay/dist/ instead.
 */
import { spawnSync } from "node:child_process";
import { createRequire } from "node:module";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const wrangler = join(dirname(createRequire(import.meta.url).resolve("wrangler/package.json")), "bin", "wrangler.js");

/** Relay first, as for deploying (the app's service binding points at it). */
const WORKERS = [
  { name: "relay", config: join(ROOT, "workers", "relay", "wrangler.toml") },
  { name: "app", config: join(ROOT, "wrangler.toml") },
];

for (const { name, config } of WORKERS) {
  const outdir = join(ROOT, "dist", "check", name);
  console.log(`[build:dry] ${name} -> ${outdir}`);
  const run = spawnSync(process.execPath, [wrangler, "deploy", "--dry-run", "--outdir", outdir, "-c", config], {
    cwd: ROOT,
    stdio: "inherit",
  });
  if (run.status !== 0) process.exit(run.status ?? 1);
}
