/**
 * The workers as the tests and the benchmark run them: bundled with esbuild from each worker's
 * `main` (wrangler's own bundle differs only in metadata), and their Miniflare options taken from
 * the real wrangler.toml files, so bindings and compatibility settings are the deployed ones.
 */
import { mkdirSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";
import type { V4WorkerOptions } from "miniflare";
import { unstable_getMiniflareWorkerOptions, unstable_readConfig } from "wrangler";

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..");

/** Bundles `entry` (relative to the root) into `outDir/name.js` and returns that path. */
export async function bundleWorker(entry: string, name: string, outDir: string): Promise<string> {
  const outfile = join(outDir, `${name}.js`);
  mkdirSync(outDir, { recursive: true });
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

/**
 * Miniflare (v4-shaped) options of the worker a wrangler config describes, named as deployed.
 * The script is given separately (one bundled file), so wrangler's module rules and root go.
 */
export function workerOptionsFrom(configPath: string): V4WorkerOptions {
  const path = join(ROOT, configPath);
  const { workerOptions } = unstable_getMiniflareWorkerOptions(path);
  const { name } = unstable_readConfig({ config: path }, { hideWarnings: true });
  const {
    modulesRules: _rules,
    rootPath: _root,
    ...options
  } = workerOptions as V4WorkerOptions & { rootPath?: string };
  return { ...options, name } as V4WorkerOptions;
}
