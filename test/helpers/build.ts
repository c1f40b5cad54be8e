/**
 * Bundles both workers once per test process with the same config wrangler uses (the worker's
 * `main`), so the integration tests run the code that would be deployed, in workerd.
 */
import { basename, join } from "node:path";
import { bundleWorker, ROOT } from "../../tools/workers-build.ts";

export { ROOT };

const OUT = join(ROOT, "dist", "test");

let built: Promise<{ app: string; relay: string }> | undefined;

export function buildWorkers(): Promise<{ app: string; relay: string }> {
  built ??= Promise.all([
    bundleWorker("workers/app/src/index.ts", "app", OUT),
    bundleWorker("workers/relay/src/index.ts", "relay", OUT),
  ]).then(([app, relay]) => ({ app, relay }));
  return built;
}

const entries = new Map<string, Promise<string>>();

/** Bundles another app entry (a test subclass of its objects) once per test process. */
export function buildEntry(entry: string): Promise<string> {
  let built = entries.get(entry);
  if (!built) {
    built = bundleWorker(entry, `entry-${basename(entry, ".ts")}`, OUT);
    entries.set(entry, built);
  }
  return built;
}
