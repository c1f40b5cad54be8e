/**
 * Bundles both workers once per test process with the same config wrangler uses (the worker's
 * `main`), so the integration tests run the code that would be deployed, in workerd.
 */
import { mkdirSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
const OUT = join(ROOT, "dist", "test");

let built: Promise<{ app: string; relay: string }> | undefined;

async function bundle(entry: string, name: string): Promise<string> {
  const outfile = join(OUT, `${name}.js`);
  mkdirSync(OUT, { recursive: true });
  await build({
    entryPoints: [join(ROOT, entry)],
    outfile,
    bundle: true,
    format: "esm",
    platform: "neutral",
    target: "es2024",
    conditions: ["workerd", "worker", "browser"],
    mainFields: ["module", "main"],
    external: ["cloudflare:*"],
    logLevel: "warning",
  });
  return outfile;
}

export function buildWorkers(): Promise<{ app: string; relay: string }> {
  built ??= Promise.all([
    bundle("workers/app/src/index.ts", "app"),
    bundle("workers/relay/src/index.ts", "relay"),
  ]).then(([app, relay]) => ({ app, relay }));
  return built;
}
